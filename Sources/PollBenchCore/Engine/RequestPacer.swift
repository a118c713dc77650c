import DequeModule
import PollBenchRules

/// The engine's cap on its request rate (`--max-rps`): a token bucket over wall milliseconds, with a
/// burst of a tenth of a second's rate, and the requests waiting for it, oldest first. Without a cap
/// every request goes at once.
struct RequestPacer {
    private var bucket: TokenBucket?
    /// The requests held back, with the wall nanoseconds at which each was.
    private var waiting = Deque<(tag: Int, request: HTTPRequest, heldNanos: Int64)>()

    init(maxRequestsPerSecond: Double?) {
        bucket = maxRequestsPerSecond.map { TokenBucket(TokenBucket.Limit(rate: $0, burst: max(1, Int($0 / 10))), now: 0) }
    }

    /// Whether `request` may go at wall nanoseconds `nowNanos`; if not, it waits behind those already
    /// waiting. The time is read only under a cap (a clock read per request is work on every poll).
    mutating func admit(_ request: HTTPRequest, tag: Int, atNanos nowNanos: @autoclosure () -> Int64) -> Bool {
        guard bucket != nil else { return true }
        let now = nowNanos()
        guard waiting.isEmpty, take(atMillis: now / 1_000_000) else {
            waiting.append((tag, request, now))
            return false
        }
        return true
    }

    /// The waiting requests the cap lets go at wall nanoseconds `nowNanos`, oldest first, each with how
    /// long it was held back; those whose session has ended meanwhile (`isDone`) are dropped without a token.
    mutating func release(atNanos nowNanos: Int64, isDone: (Int) -> Bool) -> [(tag: Int, request: HTTPRequest, heldNanos: Int64)] {
        var released: [(tag: Int, request: HTTPRequest, heldNanos: Int64)] = []
        while let next = waiting.first {
            if isDone(next.tag) {
                waiting.removeFirst()  // interrupted while waiting
                continue
            }
            guard take(atMillis: nowNanos / 1_000_000) else { break }
            waiting.removeFirst()
            released.append((next.tag, next.request, nowNanos - next.heldNanos))
        }
        return released
    }

    /// Wall ms until the cap has a token for the oldest waiting request (at least 1); nil when none waits.
    func waitMillis(atMillis nowMillis: Int64) -> Int64? {
        guard !waiting.isEmpty, var bucket else { return nil }
        return max(1, bucket.take(at: nowMillis) ?? 0)  // only asks: release took what there was
    }

    private mutating func take(atMillis nowMillis: Int64) -> Bool {
        guard var bucket else { return true }
        defer { self.bucket = bucket }
        return bucket.take(at: nowMillis) == nil
    }
}
