import Foundation
import PollBenchCore
import PollBenchRules
import Synchronization

/// pollbench's HTTP engine: libcurl's multi interface on dedicated worker threads.
///
/// Two ways in:
/// - ``execute(_:completion:)`` from any thread: requests go round-robin to the workers' inboxes
///   and wake their loops (an eventfd in each loop's epoll set).
/// - ``run(configuration:makeDriver:collect:)``: each worker runs a ``TransportLoopDriver`` inside its
///   own event loop, with no locks and no thread hops on the request path. The polling engine and the
///   load benchmarks use this.
public final class CurlTransport: HTTPTransport {
    private let inboxes: [LoopInbox]
    private let threads: [WorkerThread]
    private let nextWorker = Atomic<Int>(0)

    /// Starts `configuration.workers` loops.
    /// - Throws: ``CurlTransportError`` when libcurl cannot create a multi handle.
    public init(configuration: CurlTransportConfiguration = CurlTransportConfiguration()) throws {
        var inboxes: [LoopInbox] = []
        var threads: [WorkerThread] = []
        for index in 0..<max(1, configuration.workers) {
            let multi = try MultiHandle.make(configuration)
            let inbox = LoopInbox(waker: LoopWaker(multi))
            let handoff = Handoff(multi)
            threads.append(WorkerThread(name: "pollbench-curl-\(index)") {
                CurlLoop(multi: handoff.take(), configuration: configuration).run(InboxDriver(inbox: inbox))
            })
            inboxes.append(inbox)
        }
        self.inboxes = inboxes
        self.threads = threads
    }

    deinit {
        shutdown()
    }

    public func execute(_ request: HTTPRequest, completion: @escaping @Sendable (HTTPResult) -> Void) {
        let index = nextWorker.wrappingAdd(1, ordering: .relaxed).oldValue % inboxes.count
        if !inboxes[index].post((request, completion)) {
            completion(.failure(TransportError(kind: .other, message: "the transport is shut down")))
        }
    }

    /// Lets the requests already submitted finish, then stops the worker threads. Idempotent.
    public func shutdown() {
        for inbox in inboxes { inbox.close() }
        for thread in threads { thread.join() }
    }

    /// Runs one driver per worker, each made and read on its own loop thread, and returns what
    /// `collect` read from each once every driver is finished and its requests are done.
    public static func run<Driver: TransportLoopDriver & SendableMetatype, Outcome: Sendable>(
        configuration: CurlTransportConfiguration,
        makeDriver: @escaping @Sendable (_ worker: Int) -> Driver,
        collect: @escaping @Sendable (Driver) -> Outcome
    ) throws -> [Outcome] {
        let outcomes = Mutex<[Int: Outcome]>([:])
        var threads: [WorkerThread] = []
        for index in 0..<max(1, configuration.workers) {
            let handoff = Handoff(try MultiHandle.make(configuration))
            threads.append(WorkerThread(name: "pollbench-loop-\(index)") {
                let driver = makeDriver(index)
                CurlLoop(multi: handoff.take(), configuration: configuration).run(driver)
                let outcome = collect(driver)
                outcomes.withLock { $0[index] = outcome }
            })
        }
        for thread in threads { thread.join() }
        return outcomes.withLock { all in all.keys.sorted().compactMap { all[$0] } }
    }
}

/// A libcurl set-up failure surfaced to callers.
public struct CurlTransportError: Error, CustomStringConvertible {
    /// What failed.
    public let description: String
}

extension MultiHandle {
    static func make(_ configuration: CurlTransportConfiguration) throws(CurlTransportError) -> MultiHandle {
        do {
            return try MultiHandle(maxConnections: max(1, configuration.connectionsPerWorker), streamsPerConnection: max(1, configuration.streamsPerConnection))
        } catch {
            throw CurlTransportError(description: error.description)
        }
    }
}

/// Moves a non-`Sendable` handle to the one thread that will own it from then on.
private final class Handoff: @unchecked Sendable {
    private var value: MultiHandle?

    init(_ value: MultiHandle) {
        self.value = value
    }

    /// Called once, on the receiving thread.
    func take() -> MultiHandle {
        defer { value = nil }
        return value.unsafelyUnwrapped
    }
}

/// A thread that runs one closure and can be joined.
final class WorkerThread: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let joined = Mutex(false)

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [done] in
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for the closure to return; later calls return at once.
    func join() {
        let first = joined.withLock { joined in
            defer { joined = true }
            return !joined
        }
        if first { done.wait() }
    }
}
