/// Counts the sandbox keeps about itself.
public struct GroundTruth: Sendable, Codable, Equatable {
    /// Responses by endpoint, then by HTTP status (as a string key, for JSON).
    public var responses: [String: [String: Int]] = [:]
    /// 429s issued.
    public var rateLimited = 0
    /// Injected faults by kind.
    public var faults: [String: Int] = [:]
    /// Sessions created.
    public var created = 0
    /// Sessions by status now, evicted ones included.
    public var sessionsByState: [String: Int] = [:]
    /// Evicted sessions by their final status.
    public var evicted: [String: Int] = [:]
    /// Webhooks, when any status change was announced.
    public var webhooks: WebhookTruth?

    mutating func count(_ endpoint: SandboxEndpoint, status: Int) {
        responses[endpoint.rawValue, default: [:]][String(status), default: 0] += 1
    }

    /// Responses to one endpoint, all statuses.
    public func total(_ endpoint: SandboxEndpoint) -> Int {
        responses[endpoint.rawValue]?.values.reduce(0, +) ?? 0
    }
}
