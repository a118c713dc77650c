import NIOCore
import Synchronization

/// A server's open connections and its requests being answered, for a graceful stop: once stopping,
/// HTTP/1.1 answers close their connection, and the stop waits until no request is being answered (or
/// its deadline passes) before it closes what is left, each connection after what it has written.
final class ServerConnections: Sendable {
    private struct Open {
        let channel: any Channel
        /// Closes the connection once what it has written is out; nil: close it at once.
        var stop: (@Sendable () -> Void)?
    }

    private struct State {
        var open: [ObjectIdentifier: Open] = [:]
        /// The stop waiting for the last answer.
        var drained: CheckedContinuation<Void, Never>?

        mutating func takeDrained() -> CheckedContinuation<Void, Never>? {
            defer { drained = nil }
            return drained
        }
    }

    private let state = Mutex(State())
    /// Counted without the lock: a request costs two atomic updates, not two locks.
    private let answering = Atomic(0)
    private let stopping = Atomic(false)

    /// Counts `channel` as open until it closes.
    func opened(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.open[id] = Open(channel: channel) }
        channel.closeFuture.whenComplete { _ in _ = self.state.withLock { $0.open.removeValue(forKey: id) } }
    }

    /// How a stop closes `channel`: `stop` closes it after the bytes it has queued (a plain close drops them).
    func closes(_ channel: any Channel, by stop: @escaping @Sendable () -> Void) {
        state.withLock { $0.open[ObjectIdentifier(channel)]?.stop = stop }
    }

    /// A request was read whole and is being answered. Returns whether the server is stopping (its
    /// answer then closes an HTTP/1.1 connection).
    func requestBegan() -> Bool {
        answering.add(1, ordering: .sequentiallyConsistent)
        return stopping.load(ordering: .sequentiallyConsistent)
    }

    /// `count` requests' answers have been written (or could not be).
    func requestsEnded(_ count: Int = 1) {
        let left = answering.subtract(count, ordering: .sequentiallyConsistent).newValue
        guard left == 0, stopping.load(ordering: .sequentiallyConsistent) else { return }
        state.withLock { $0.takeDrained() }?.resume()
    }

    /// Marks the server stopping, waits until no request is being answered or `deadline` passes, then
    /// closes every open connection and waits for them to close.
    func drain(deadline: Duration) async {
        var timer: Task<Void, Never>?
        await withCheckedContinuation { continuation in
            let waiting = state.withLock { state in
                stopping.store(true, ordering: .sequentiallyConsistent)
                guard answering.load(ordering: .sequentiallyConsistent) > 0 else { return false }
                state.drained = continuation
                return true
            }
            guard waiting else { return continuation.resume() }
            timer = Task {
                try? await Task.sleep(for: deadline)
                self.state.withLock { $0.takeDrained() }?.resume()
            }
        }
        timer?.cancel()
        let open = state.withLock { Array($0.open.values) }
        for connection in open {
            if let stop = connection.stop { stop() } else { connection.channel.close(promise: nil) }
            try? await connection.channel.closeFuture.get()
        }
    }
}
