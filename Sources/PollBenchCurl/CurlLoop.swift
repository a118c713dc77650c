import CCurl
import DequeModule
import PollBenchCore
import PollBenchRules
import Synchronization

/// One libcurl multi handle, its pool of reusable easy handles and the queue of requests waiting for one.
/// Confined to the thread that runs it: it is neither `Sendable` nor shared; other threads reach it
/// only through ``LoopInbox`` and ``LoopWaker``.
final class CurlLoop: TransportLoop {
    private let multi: MultiHandle
    private let configuration: CurlTransportConfiguration
    private var pool: [EasyHandle] = []
    private var idle: [EasyHandle] = []
    private var waiting: Deque<(request: HTTPRequest, tag: Int)> = []
    /// The driver of the running loop, told when a request that waited for a connection starts.
    private var driver: (any TransportLoopDriver)?
    private var finishedNow: [(tag: Int, result: HTTPResult)] = []
    private(set) var inFlight = 0
    /// The wakers handed out, disarmed when the loop ends (before its multi handle goes).
    private var wakers: [ArmedWaker] = []

    init(multi: MultiHandle, configuration: CurlTransportConfiguration) {
        self.multi = multi
        self.configuration = configuration
    }

    @discardableResult
    func submit(_ request: HTTPRequest, tag: Int) -> Bool {
        inFlight += 1
        guard let handle = freeHandle() else {
            waiting.append((request, tag))
            return false
        }
        start(request, tag: tag, on: handle)
        return true
    }

    var waitingForConnection: Int { waiting.count }

    var openConnections: Int? { multi.sockets.open }

    private(set) var previousTurn: LoopTurnTimes?

    func makeWaker() -> @Sendable () -> Void {
        let armed = ArmedWaker(LoopWaker(multi))
        wakers.append(armed)
        return { armed.wake() }
    }

    /// Runs `driver` until it is finished and every request it submitted has completed.
    func run(_ driver: any TransportLoopDriver) {
        self.driver = driver
        defer {
            for waker in wakers { waker.disarm() }
            self.driver = nil
        }
        driver.loopDidStart(self)
        var driverFinished = false
        var turnStarted = ContinuousClock.now
        // The thread's CPU clock is a system call, so it is read once a turn, as the wait starts: no CPU
        // passes while the thread sleeps in it.
        var waitCPUMicros = CPUClock.threadMicros()
        while true {
            multi.perform()
            collectCompleted()
            for (tag, result) in finishedNow {
                driver.requestDidFinish(tag: tag, result: result, loop: self)
            }
            finishedNow.removeAll(keepingCapacity: true)
            var waitNanoseconds: Int64 = 1_000_000_000
            if !driverFinished {
                switch driver.turn(self) {
                case .finished: driverFinished = true
                case .wait(let nanoseconds): waitNanoseconds = nanoseconds
                }
            }
            if driverFinished && inFlight == 0 { return }
            // Round up so that a timer is never woken early and spun on.
            let millis = Int32(clamping: max(0, (waitNanoseconds + 999_999) / 1_000_000))
            let waitStarted = ContinuousClock.now, cpuMicros = CPUClock.threadMicros()
            let busy = waitStarted - turnStarted, busyCPU = cpuMicros - waitCPUMicros
            waitCPUMicros = cpuMicros
            multi.wait(timeoutMilliseconds: min(millis, 1_000))
            turnStarted = .now
            previousTurn = LoopTurnTimes(busyNanos: busy.inNanoseconds, busyCPUMicros: busyCPU, waitNanos: (turnStarted - waitStarted).inNanoseconds)
        }
    }

    private func freeHandle() -> EasyHandle? {
        if let handle = idle.popLast() { return handle }
        guard pool.count < configuration.connectionsPerWorker else { return nil }
        do {
            let handle = try EasyHandle(index: pool.count, configuration: configuration, sockets: multi.sockets)
            pool.append(handle)
            return handle
        } catch {
            return nil
        }
    }

    private func start(_ request: HTTPRequest, tag: Int, on handle: EasyHandle) {
        do {
            try handle.prepare(request, tag: tag)
            try multi.add(handle)
        } catch {
            idle.append(handle)
            finish(tag: tag, result: .failure(TransportError(kind: .invalidRequest, message: error.description)))
        }
    }

    private func collectCompleted() {
        while let (raw, code) = multi.nextCompleted() {
            guard let handle = handle(for: raw) else { continue }
            multi.remove(handle)
            if Self.safeToRetry(code, handle) {
                handle.rearmForRetry()
                do { try multi.add(handle); continue } catch {}
            }
            let result = handle.finish(code)
            finish(tag: handle.tag, result: result)
            if let next = waiting.popFirst() {
                start(next.request, tag: next.tag, on: handle)
                driver?.requestDidStart(tag: next.tag, loop: self)
            } else {
                idle.append(handle)
            }
        }
    }

    /// Whether a failed transfer goes out again, once: a GET whose HTTP/2 connection the server shut
    /// (GOAWAY) under it. A GOAWAY names the last stream the server processed; curl 7.88 does not say
    /// which, but a GET is safe to repeat either way, as browsers do. The response counts the retry.
    private static func safeToRetry(_ code: CURLcode, _ handle: EasyHandle) -> Bool {
        code == CURLE_HTTP2 && handle.method == .get && handle.retries == 0
    }

    private func finish(tag: Int, result: HTTPResult) {
        inFlight -= 1
        finishedNow.append((tag, result))
    }

    /// The pool entry behind a finished transfer, from the index stored in `CURLOPT_PRIVATE`.
    private func handle(for raw: UnsafeMutableRawPointer) -> EasyHandle? {
        var stored: UnsafeMutableRawPointer?
        guard pb_easy_getinfo_ptr(raw, CURLINFO_PRIVATE, &stored) == CURLE_OK, let stored else { return nil }
        let index = Int(bitPattern: stored) - 1
        return pool.indices.contains(index) ? pool[index] : nil
    }
}

/// A loop's waker that another thread may keep: it wakes the loop while the loop runs, and does nothing
/// once the loop has disarmed it.
private final class ArmedWaker: Sendable {
    private let waker: Mutex<LoopWaker?>

    init(_ waker: LoopWaker) {
        self.waker = Mutex(waker)
    }

    func wake() {
        waker.withLock { $0?.wake() }
    }

    func disarm() {
        waker.withLock { $0 = nil }
    }
}
