import Foundation

/// One session's progress through its strategy: says how long to wait before each next poll.
/// A value type; every random draw comes from the generator passed in, so a seed replays it.
public struct PollSchedule: Sendable {
    /// What the last poll found.
    public enum Outcome: Sendable, Equatable {
        /// A non-terminal status: keep polling.
        case notYet
        /// A 429 or 503 with `Retry-After`: never poll before this many model milliseconds.
        case retryAfter(millis: Int64)
        /// A 5xx, a transport error or an unreadable body: back off by the strategy's error rule.
        case failed
    }

    /// The schedule; nil: none (a pure webhook session reads once, at its webhook timeout, instead).
    public let polling: PollStrategy.Polling?
    /// Polls scheduled so far.
    public private(set) var attempt = 0
    /// Failures in a row.
    public private(set) var consecutiveFailures = 0
    private var previousMillis: Int64
    /// An `optimal` schedule's row: the session's provider's.
    private let row: Int32

    /// Starts a schedule: a hybrid's is its safety poll's; an `optimal` one's is `provider`'s.
    public init(strategy: PollStrategy, provider: String? = nil) {
        polling = strategy.polling
        previousMillis = if case .jitter(_, let base, _) = strategy.polling { base } else { 0 }
        row = strategy.optimalSchedule?.row(provider) ?? 0
    }

    /// The wait before the first poll after creation.
    public mutating func firstDelay(_ random: inout SplitMix64) -> Int64 {
        advance(0, &random)
    }

    /// The wait before the next poll, after `outcome`, `elapsedMillis` after the create's answer (an
    /// `optimal` schedule keeps to its planned times with it; nil: to its planned gaps). Never shorter
    /// than a `Retry-After`.
    public mutating func nextDelay(after outcome: Outcome, elapsedMillis: Int64? = nil, _ random: inout SplitMix64) -> Int64 {
        switch outcome {
        case .notYet:
            consecutiveFailures = 0
            return advance(elapsedMillis, &random)
        case .retryAfter(let millis):
            consecutiveFailures = 0
            return max(millis, advance(elapsedMillis, &random))
        case .failed:
            consecutiveFailures += 1
            switch polling {
            case .fixed(let interval):
                // A fixed poller has no backoff of its own: double per failure in a row, up to 30 s or the interval.
                return Self.doubled(interval, failures: consecutiveFailures)
            case .optimal:
                // Nor has a planned one: its next gap, doubled the same way (a failure uses up a planned poll).
                return Self.doubled(advance(nil, &random), failures: consecutiveFailures)
            default:
                return advance(nil, &random)  // backoff strategies: a failure is one more step
            }
        }
    }

    /// The strategy's next step, `elapsedMillis` after the create's answer (nil: unknown).
    private mutating func advance(_ elapsedMillis: Int64?, _ random: inout SplitMix64) -> Int64 {
        defer { attempt += 1 }
        let delay: Int64
        switch polling {
        case nil:
            delay = Self.neverMillis  // no schedule of its own
        case .fixed(let interval):
            delay = interval
        case .exponential(let initial, let multiplier, let maximum):
            delay = Self.grown(initial, multiplier, attempt, cap: maximum)
        case .jitter(.full, let base, let cap):
            delay = Self.uniform(0, Self.grown(base, 2, attempt, cap: cap), &random)
        case .jitter(.equal, let base, let cap):
            let ceiling = Self.grown(base, 2, attempt, cap: cap)
            delay = ceiling / 2 + Self.uniform(0, ceiling - ceiling / 2, &random)
        case .jitter(.decorrelated, let base, let cap):
            delay = min(cap, Self.uniform(base, max(base, previousMillis * 3), &random))
        case .grpc(let initial, let multiplier, let jitter, let maximum):
            let centre = Double(Self.grown(initial, multiplier, attempt, cap: maximum))
            delay = Int64((centre * (1 + jitter * (2 * random.nextUnit() - 1))).rounded())
        case .optimal(let schedule):
            delay = schedule.wait(row: row, attempt: attempt, elapsedMillis: elapsedMillis) ?? Self.neverMillis  // after its last poll, none
        }
        previousMillis = delay
        return delay
    }

    /// A wait longer than any client timeout: no poll.
    static let neverMillis: Int64 = 1 << 40

    /// `wait` doubled per failure in a row, up to 30 s or the wait.
    static func doubled(_ wait: Int64, failures: Int) -> Int64 {
        let doubled = wait.multipliedReportingOverflow(by: Int64(1) << min(failures, 20))
        return min(doubled.overflow ? .max : doubled.partialValue, max(wait, 30_000))
    }

    /// `start · multiplier^steps`, capped, without overflow.
    static func grown(_ start: Int64, _ multiplier: Double, _ steps: Int, cap: Int64) -> Int64 {
        let value = Double(start) * pow(multiplier, Double(steps))
        return value >= Double(cap) ? cap : Int64(value.rounded())
    }

    /// Uniform in [low, high] milliseconds.
    static func uniform(_ low: Int64, _ high: Int64, _ random: inout SplitMix64) -> Int64 {
        guard high > low else { return low }
        return low + Int64((random.nextUnit() * Double(high - low + 1)).rounded(.down))
    }
}
