import Foundation
import PollBenchCore

/// A live progress line on a terminal (nothing when output is not a TTY): sessions started, active and
/// done, requests per second, 429s, elapsed time.
final class ProgressLine: Sendable {
    private let task: Task<Void, Never>?

    init(board: ProgressBoard, total: Int) {
        guard isatty(STDOUT_FILENO) == 1 else {
            task = nil
            return
        }
        let started = ContinuousClock.now
        task = Task.detached {
            var lastRequests = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if Task.isCancelled { return }
                let now = board.snapshot()
                let elapsed = Double((ContinuousClock.now - started).components.seconds)
                // Remaining, by the share of sessions done so far (unknown until the first ends).
                let remaining = now.ended > 0 ? String(format: "~%.0f s left", elapsed * Double(total - now.ended) / Double(now.ended)) : "…"
                let line = String(
                    format: "\r\u{1B}[2Ksessions %d/%d started, %d active, %d done | %.0f req/s | %d 429s | %.0f s elapsed, %@",
                    now.started, total, now.started - now.ended, now.ended, Double(now.requests - lastRequests) * 2, now.rateLimited, elapsed, remaining
                )
                lastRequests = now.requests
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        }
    }

    /// Stops and clears the line.
    func finish() async {
        guard let task else { return }
        task.cancel()
        await task.value
        FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8))
    }
}
