import DequeModule
import PollBenchRules

/// The engine's cap on its request rate (`--max-rps`): a token bucket over wall milliseconds, with a
/// burst of a tenth of a second's rate, and the requests waiting for it, oldest first. Without a cap
/// every request goes at once.
struct RequestPacer {
    private var bucket: TokenBucket?
    private var waiting = Deque<(tag: Int, request: HTTPRequest)>()

    init(maxRequestsPerSecond: Double?) {
        bucket = maxRequestsPerSecond.map { TokenBucket(TokenBucket.Limit(rate: $0, burst: max(1, Int($0 / 10))), now: 0) }
    }

    /// Whether `request` may go at wall ms `nowMillis`; if not, it waits behind those already waiting.
    /// The time is read only under a cap (a clock read per request is work on every poll).
    mutating func admit(_ request: HTTPRequest, tag: Int, atMillis nowMillis: @autoclosure () -> Int64) -> Bool {
        guard bucket != nil else { return true }
        guard waiting.isEmpty, take(atMillis: nowMillis()) else {
            waiting.append((tag, request))
            return false
        }
        return true
    }

    /// The waiting requests the cap lets go at wall ms `nowMillis`, oldest first; those whose session has
    /// ended meanwhile (`isDone`) are dropped without a token.
    mutating func release(atMillis nowMillis: Int64, isDone: (Int) -> Bool) -> [(tag: Int, request: HTTPRequest)] {
        var released: [(tag: Int, request: HTTPRequest)] = []
        while let next = waiting.first {
            if isDone(next.tag) {
                waiting.removeFirst()  // interrupted while waiting
                continue
            }
            guard take(atMillis: nowMillis) else { break }
            released.append(waiting.removeFirst())
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
