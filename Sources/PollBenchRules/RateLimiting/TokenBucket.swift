/// A request budget: `rate` tokens per model second, holding at most `burst`. Kept in integer
/// micro-tokens and model milliseconds, so N requests at a known spacing give an exact allowed count.
public struct TokenBucket: Sendable {
    /// Tokens per second and capacity.
    public struct Limit: Sendable, Codable, Equatable {
        /// Tokens added per model second.
        public var rate: Double
        /// The most tokens held (and the first burst allowed).
        public var burst: Int

        /// Creates a limit.
        public init(rate: Double, burst: Int) {
            self.rate = rate
            self.burst = burst
        }

        /// The embedded sandbox's budget per client unless a suite or `--no-rate-limit` says otherwise:
        /// 25 requests per model second, bursts of 25. An assumption (the provider publishes no number),
        /// chosen so that the default workload touches it: fixed 3 s polling at 3 arrivals per second
        /// offers about 30 requests per second and draws 429s, while the backoff strategies stay under it.
        public static let embeddedDefault = Limit(rate: 25, burst: 25)
    }

    private static let unit: Int64 = 1_000_000
    private let microTokensPerMilli: Int64
    private let capacity: Int64
    private var microTokens: Int64
    private var updatedAt: Int64

    /// A full bucket at `now`.
    public init(_ limit: Limit, now: Int64) {
        microTokensPerMilli = max(1, Int64((limit.rate * 1_000).rounded()))
        capacity = Int64(max(1, limit.burst)) * Self.unit
        microTokens = capacity
        updatedAt = now
    }

    /// Takes one token at `now`; when there is none, how many model milliseconds until there will be.
    public mutating func take(at now: Int64) -> Int64? {
        if now > updatedAt {
            let (added, overflow) = (now - updatedAt).multipliedReportingOverflow(by: microTokensPerMilli)
            microTokens = overflow ? capacity : min(capacity, microTokens + added)
            updatedAt = now
        }
        if microTokens >= Self.unit {
            microTokens -= Self.unit
            return nil
        }
        let missing = Self.unit - microTokens
        return (missing + microTokensPerMilli - 1) / microTokensPerMilli
    }

    /// The `Retry-After` seconds a 429 carries for a wait of `waitMillis`: rounded up, at least one.
    public static func retryAfterSeconds(waitMillis: Int64) -> Int64 {
        max(1, (waitMillis + 999) / 1_000)
    }
}
