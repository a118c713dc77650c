import PollBenchRules

/// What a strategy's sessions made of their webhooks.
public struct WebhookCounts: Sendable, Codable, Equatable {
    /// Sessions that asked for a webhook.
    public var sessions = 0
    /// Deliveries to these sessions by ``WebhookReceipt``.
    public var receipts: [String: Int] = [:]
    /// Accepted deliveries by what they meant (``SessionMachine/NoticeKind``): first, duplicate, out-of-order, late.
    public var notices: [String: Int] = [:]
    /// Accepted deliveries that were a retry (attempt 2 or later).
    public var retriesSeen = 0
    /// Sessions by the channel that saw their end first (``SessionMachine/Channel``).
    public var noticedFirst: [String: Int] = [:]
    /// Sessions whose end a poll saw before any webhook came: a lost or slow webhook rescued.
    public var rescuedByPoll = 0
    /// Polls the webhooks made unneeded (``SessionMachine/pollsSaved``).
    public var pollsSaved = 0

    public init() {}

    mutating func recordEnd(_ machine: SessionMachine) {
        sessions += 1
        pollsSaved += machine.pollsSaved
        guard let channel = machine.detectedBy else { return }
        noticedFirst[channel.rawValue, default: 0] += 1
        if channel == .poll { rescuedByPoll += 1 }
    }

    mutating func merge(_ other: WebhookCounts) {
        sessions += other.sessions
        receipts.merge(other.receipts, uniquingKeysWith: +)
        notices.merge(other.notices, uniquingKeysWith: +)
        retriesSeen += other.retriesSeen
        noticedFirst.merge(other.noticedFirst, uniquingKeysWith: +)
        rescuedByPoll += other.rescuedByPoll
        pollsSaved += other.pollsSaved
    }
}
