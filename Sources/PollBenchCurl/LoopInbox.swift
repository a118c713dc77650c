import PollBenchCore
import Synchronization

/// Requests handed to a loop from other threads: appended under a lock, drained by the loop each turn.
final class LoopInbox: Sendable {
    typealias Job = (request: HTTPRequest, completion: @Sendable (HTTPResult) -> Void)

    private struct State {
        var jobs: [Job] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let waker: LoopWaker

    init(waker: LoopWaker) {
        self.waker = waker
    }

    /// Queues a job and wakes the loop; false once the inbox is closed.
    func post(_ job: Job) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.jobs.append(job)
            waker.wake()  // under the lock: the loop cannot have seen `closed` and freed its multi handle
            return true
        }
    }

    /// Takes every queued job; nil once the inbox is closed and empty.
    func drain() -> [Job]? {
        state.withLock { state in
            if state.jobs.isEmpty { return state.closed ? nil : [] }
            defer { state.jobs.removeAll() }
            return state.jobs
        }
    }

    /// Refuses further jobs; the loop finishes the queued ones and stops.
    func close() {
        state.withLock { state in
            state.closed = true
            waker.wake()
        }
    }
}

/// The driver behind ``CurlTransport/execute(_:completion:)``: submits what arrives in the inbox
/// and calls each completion on the loop thread.
final class InboxDriver: TransportLoopDriver {
    private let inbox: LoopInbox
    private var completions: [Int: @Sendable (HTTPResult) -> Void] = [:]
    private var nextTag = 0

    init(inbox: LoopInbox) {
        self.inbox = inbox
    }

    func loopDidStart(_ loop: any TransportLoop) {}

    func requestDidFinish(tag: Int, result: HTTPResult, loop: any TransportLoop) {
        completions.removeValue(forKey: tag)?(result)
    }

    func turn(_ loop: any TransportLoop) -> LoopTurn {
        guard let jobs = inbox.drain() else { return .finished }
        for job in jobs {
            nextTag += 1
            completions[nextTag] = job.completion
            loop.submit(job.request, tag: nextTag)
        }
        return .wait(nanoseconds: 1_000_000_000)
    }
}
