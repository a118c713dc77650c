import PollBenchRules

/// The outcome of one request.
public typealias HTTPResult = Result<HTTPResponse, TransportError>

/// Sends requests from any thread and reports each result once, on a thread of the transport's choosing.
public protocol HTTPTransport: Sendable {
    /// Starts `request`; `completion` runs exactly once.
    func execute(_ request: HTTPRequest, completion: @escaping @Sendable (HTTPResult) -> Void)
}

extension HTTPTransport {
    /// Sends `request` and waits for its result.
    public func execute(_ request: HTTPRequest) async -> HTTPResult {
        await withCheckedContinuation { continuation in
            execute(request) { continuation.resume(returning: $0) }
        }
    }
}

/// One event loop of a transport, seen from the code that runs on it.
/// Not thread safe: use it only on the loop's own thread, from a ``TransportLoopDriver`` callback.
public protocol TransportLoop: AnyObject {
    /// Queues `request`; its result comes back through ``TransportLoopDriver/requestDidFinish(tag:result:loop:)`` with `tag`.
    /// Returns whether its transfer started now; when it waits for a free connection instead,
    /// ``TransportLoopDriver/requestDidStart(tag:loop:)`` says when it starts.
    @discardableResult
    func submit(_ request: HTTPRequest, tag: Int) -> Bool
    /// Requests submitted and not yet finished (those waiting for a connection included).
    var inFlight: Int { get }
    /// Requests submitted that wait for a free connection.
    var waitingForConnection: Int { get }
    /// Connections the loop holds open now; nil where there are none to count (virtual time).
    var openConnections: Int? { get }
    /// The loop's last turn away from its sockets and its last wait on them (nil where there are no
    /// sockets: virtual time). An answer that arrives while the loop is away sits in its socket until the
    /// next turn reads it, and its latency holds that wait.
    var previousTurn: LoopTurnTimes? { get }
    /// Something other threads may call to wake the loop for its next turn (safe to call after the loop
    /// has ended: it then does nothing).
    func makeWaker() -> @Sendable () -> Void
}

/// How a loop spent its time around one wait on its sockets, in wall nanoseconds.
public struct LoopTurnTimes: Sendable, Equatable {
    /// From the end of one wait to the start of the next: the loop was reading, dispatching and
    /// submitting, and did not see its sockets.
    public var busyNanos: Int64
    /// The loop thread's CPU time in that span, µs (with the few the wait's own call before it took):
    /// well under the span when the machine ran something else on its core (another process, the
    /// embedded sandbox), rather than the loop being slow itself.
    public var busyCPUMicros: Int64
    /// The wait itself: an answer arriving then is read at once.
    public var waitNanos: Int64

    public init(busyNanos: Int64, busyCPUMicros: Int64, waitNanos: Int64) {
        self.busyNanos = busyNanos
        self.busyCPUMicros = busyCPUMicros
        self.waitNanos = waitNanos
    }
}

/// What a driver asks of its loop after a turn.
public enum LoopTurn: Sendable, Equatable {
    /// Sleep until network activity or this many nanoseconds at most.
    case wait(nanoseconds: Int64)
    /// No more submissions: the loop ends when its requests in flight finish.
    case finished
}

/// The logic that runs inside one transport event loop: a poll scheduler, a load generator.
/// Every call comes on the loop's thread, so a driver needs no locks.
public protocol TransportLoopDriver: AnyObject {
    /// Called once before the first turn.
    func loopDidStart(_ loop: any TransportLoop)
    /// Called once for each finished request.
    func requestDidFinish(tag: Int, result: HTTPResult, loop: any TransportLoop)
    /// Called every turn, after finished requests are delivered: run due work, then say how long the loop may sleep.
    func turn(_ loop: any TransportLoop) -> LoopTurn
    /// Called when a request that waited for a free connection starts its transfer.
    func requestDidStart(tag: Int, loop: any TransportLoop)
}

extension TransportLoopDriver {
    /// A driver that does not time its requests' waits for connections ignores their start.
    public func requestDidStart(tag: Int, loop: any TransportLoop) {}
}
