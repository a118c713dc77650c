import Synchronization

/// Live counts that the engines publish and a progress line reads, from any thread.
public final class ProgressBoard: Sendable {
    private let started = Atomic<Int>(0)
    private let ended = Atomic<Int>(0)
    private let requests = Atomic<Int>(0)
    private let rateLimited = Atomic<Int>(0)

    public init() {}

    /// Adds an engine's counts since its last report.
    func add(started: Int, ended: Int, requests: Int, rateLimited: Int) {
        if started != 0 { self.started.add(started, ordering: .relaxed) }
        if ended != 0 { self.ended.add(ended, ordering: .relaxed) }
        if requests != 0 { self.requests.add(requests, ordering: .relaxed) }
        if rateLimited != 0 { self.rateLimited.add(rateLimited, ordering: .relaxed) }
    }

    /// The counts so far.
    public func snapshot() -> (started: Int, ended: Int, requests: Int, rateLimited: Int) {
        (started.load(ordering: .relaxed), ended.load(ordering: .relaxed), requests.load(ordering: .relaxed), rateLimited.load(ordering: .relaxed))
    }
}

/// Asks running engines to stop: no new sessions, open ones end as `interrupted`.
public final class StopSignal: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    /// Asks every engine watching this signal to stop.
    public func request() { requested.store(true, ordering: .relaxed) }

    /// Whether a stop was asked for.
    public var isRequested: Bool { requested.load(ordering: .relaxed) }
}
