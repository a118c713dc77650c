/// A status change a webhook announces: the status and when it happened on the service's clock (model
/// epoch ms). The service plans its deliveries from these; a session's machine takes the accepted ones.
public struct WebhookEvent: Sendable, Equatable {
    /// The `at` of a change whose time the delivery does not say.
    public static let unknownTime = Int64.min

    public var status: VerificationStatus
    /// Model epoch ms, or ``unknownTime``.
    public var at: Int64

    public init(status: VerificationStatus, at: Int64) {
        self.status = status
        self.at = at
    }

    /// Its place among a session's events (pending first), for ordering deliveries.
    public var index: Int { status == .pending ? 0 : 1 }
}
