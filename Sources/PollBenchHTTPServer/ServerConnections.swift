import NIOCore
import Synchronization

/// A server's open connections and its requests being answered, for a graceful stop: once stopping,
/// HTTP/1.1 answers close their connection, and the stop waits until no request is being answered (or
/// its deadline passes) before it closes what is left.
final class ServerConnections: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var answering = 0
        var stopping = false
        /// The stop waiting for the last answer.
        var drained: CheckedContinuation<Void, Never>?

        mutating func takeDrained() -> CheckedContinuation<Void, Never>? {
            defer { drained = nil }
            return drained
        }
    }

    private let state = Mutex(State())

    /// Counts `channel` as open until it closes.
    func opened(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.open[id] = channel }
        channel.closeFuture.whenComplete { _ in _ = self.state.withLock { $0.open.removeValue(forKey: id) } }
    }

    /// A request was read whole and is being answered. Returns whether the server is stopping (its
    /// answer then closes an HTTP/1.1 connection): one lock per request, not two.
    func requestBegan() -> Bool {
        state.withLock { state in
            state.answering += 1
            return state.stopping
        }
    }

    /// A request's answer has been written (or could not be).
    func requestEnded() {
        let drained = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.answering -= 1
            return state.answering == 0 ? state.takeDrained() : nil
        }
        drained?.resume()
    }

    /// Marks the server stopping, waits until no request is being answered or `deadline` passes, then
    /// closes every open connection and waits for them to close.
    func drain(deadline: Duration) async {
        var timer: Task<Void, Never>?
        await withCheckedContinuation { continuation in
            let answering = state.withLock { state in
                state.stopping = true
                if state.answering > 0 { state.drained = continuation }
                return state.answering > 0
            }
            guard answering else { return continuation.resume() }
            timer = Task {
                try? await Task.sleep(for: deadline)
                self.state.withLock { $0.takeDrained() }?.resume()
            }
        }
        timer?.cancel()
        let open = state.withLock { Array($0.open.values) }
        for channel in open {
            channel.close(promise: nil)
            try? await channel.closeFuture.get()
        }
    }
}
