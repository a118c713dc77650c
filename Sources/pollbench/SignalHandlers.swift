import Foundation
import PollBenchCore
import Synchronization

/// SIGINT and SIGTERM handling, off the default "die at once".
final class SignalHandlers {
    /// Shared with the dispatch handlers.
    private final class Count: Sendable {
        let value = Atomic<Int>(0)
    }

    private let sources: [any DispatchSourceSignal]
    private let count = Count()

    /// Calls `handler` with how many signals have come so far (1 for the first).
    init(_ handler: @escaping @Sendable (Int) -> Void) {
        let count = self.count
        sources = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                // Signals that came before the handler ran arrive together: take each in turn.
                for _ in 0..<max(1, source.data) { handler(count.value.add(1, ordering: .relaxed).newValue) }
            }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    /// Whether any signal came.
    var signalled: Bool { count.value.load(ordering: .relaxed) > 0 }

    /// A run's handling: the first signal stops the run (partial results are written), a second exits at once.
    static func stopping(_ stop: StopSignal) -> SignalHandlers {
        SignalHandlers { seen in
            if seen == 1 {
                FileHandle.standardError.write(Data("\ninterrupted: stopping and writing partial results (again to quit at once)\n".utf8))
                stop.request()
            } else {
                FileHandle.standardError.write(Data("interrupted again: exiting at once, without results\n".utf8))
                _exit(130)
            }
        }
    }

    /// Waits for the first SIGINT or SIGTERM.
    static func firstSignal() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let handlers = SignalHandlers { _ in continuation.yield() }
        for await _ in stream { break }
        withExtendedLifetime(handlers) {}
    }
}
