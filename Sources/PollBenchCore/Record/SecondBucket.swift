/// Requests, 429s and session starts and ends in one wall-clock second of a strategy's run.
public struct SecondBucket: Sendable, Codable, Equatable {
    public var requests = 0
    public var rateLimited = 0
    public var started = 0
    public var ended = 0

    /// Adds another worker's or shard's counts of the same second.
    mutating func add(_ other: SecondBucket) {
        requests += other.requests
        rateLimited += other.rateLimited
        started += other.started
        ended += other.ended
    }

    public init(requests: Int = 0, rateLimited: Int = 0, started: Int = 0, ended: Int = 0) {
        self.requests = requests
        self.rateLimited = rateLimited
        self.started = started
        self.ended = ended
    }
}

extension Collection<SecondBucket> {
    /// The 99th percentile of requests in one of these seconds: the peak, outliers aside.
    public var peakRequestsPerSecond: Double {
        let sorted = map(\.requests).sorted()
        return sorted.isEmpty ? 0 : Double(sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count) * 0.99))])
    }
}
