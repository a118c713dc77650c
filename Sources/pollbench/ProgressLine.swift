import Foundation
import PollBenchCore

/// The run's progress: sessions started, active and done, requests per second, 429s, elapsed time. On a
/// terminal, one line redrawn twice a second on standard output; otherwise (a CI log, a pipe) a plain
/// `progress:` line on standard error as soon as the first session has started, then every 5 s, so a
/// log shows the run going and a script can wait for it to be under way.
final class ProgressLine: Sendable {
    /// Seconds between plain lines.
    static let plainInterval = 5.0

    private let task: Task<Void, Never>
    private let terminal: Bool

    init(board: ProgressBoard, total: Int) {
        let terminal = isatty(STDOUT_FILENO) == 1
        self.terminal = terminal
        let started = ContinuousClock.now
        task = Task.detached {
            var last = (requests: 0, at: started)
            var printed: ContinuousClock.Instant?
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(terminal ? 500 : 100))
                if Task.isCancelled { return }
                let now = board.snapshot(), instant = ContinuousClock.now
                if !terminal {
                    // The first line once a session has started, then one per interval.
                    guard now.started > 0, printed.map({ (instant - $0).inSeconds >= Self.plainInterval }) ?? true else { continue }
                    printed = instant
                }
                let elapsed = (instant - started).inSeconds
                let rate = Double(now.requests - last.requests) / max(0.001, (instant - last.at).inSeconds)
                last = (now.requests, instant)
                // Remaining, by the share of sessions done so far (unknown until the first ends).
                let remaining = now.ended > 0 ? String(format: "~%.0f s left", elapsed * Double(total - now.ended) / Double(now.ended)) : "…"
                let text = String(
                    format: "sessions %d/%d started, %d active, %d done | %.0f req/s | %d 429s | %.0f s elapsed, %@",
                    now.started, total, now.started - now.ended, now.ended, rate, now.rateLimited, elapsed, remaining
                )
                if terminal {
                    FileHandle.standardOutput.write(Data("\r\u{1B}[2K\(text)".utf8))
                } else {
                    FileHandle.standardError.write(Data("progress: \(text)\n".utf8))
                }
            }
        }
    }

    /// Stops, and clears a terminal's line.
    func finish() async {
        task.cancel()
        await task.value
        if terminal { FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
