/// A signed webhook request the sandbox is to send now.
public struct OutgoingWebhook: Sendable {
    public var url: String
    public var body: [UInt8]
    /// The `X-Hopae-Signature` value; nil when the client has no webhook secret.
    public var signature: String?
    /// The outbox's attempt, for its answer.
    let queued: WebhookOutbox<String>.Queued

    /// The attempt it sends.
    public var attempt: WebhookAttempt { queued.attempt }
}
