import Foundation
import PollBenchCore

/// Flag values several commands take, each turned into a one-line usage error when it does not parse.
enum FlagValues {
    /// A share written `5%` or `0.05`.
    static func fraction(_ text: String, flag: String) throws -> Double {
        do throws(ThresholdError) { return try Threshold.fraction(text) } catch { throw CommandFailure(message: "\(flag): \(error.problem)") }
    }

    /// A rate written `40`, `40/s`, `2400/min`, `50000/h` or `200000/day`, per second.
    static func rate(_ text: String, flag: String) throws -> Double {
        guard let rate = RateText.perSecond(text) else { throw CommandFailure(message: "\(flag): expected a rate such as 40/s or 2400/min, got '\(text)'") }
        return rate
    }
}

/// Writing a command's files into its run directory.
enum ResultFiles {
    /// Writes with `body` into `directory`; a failure becomes one line naming the directory.
    static func write(into directory: URL, _ body: (ResultWriter) throws -> Void) throws {
        do {
            try body(ResultWriter(directory: directory))
        } catch {
            throw CommandFailure(message: "cannot write results to \(directory.path): \(error.localizedDescription)")
        }
    }
}

/// A wall-clock duration as the CLI prints it: `1.75 s`.
func secondsText(_ duration: Duration) -> String {
    String(format: "%.2f s", duration.inSeconds)
}
