/// A signed webhook request the sandbox is to send now.
public struct OutgoingWebhook: Sendable {
    public var url: String
    public var body: [UInt8]
    /// The `X-Hopae-Signature` value; nil when the client has no webhook secret.
    public var signature: String?
    public var attempt: WebhookAttempt
    let sessionID: String
    let creation: Int
}
