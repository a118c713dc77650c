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

/// What CI systems read: a JUnit XML file (`--junit FILE`) and, when GitHub Actions sets
/// `GITHUB_STEP_SUMMARY`, the run's Markdown appended to the job's step summary.
struct CIOutputs {
    static let stepSummaryVariable = "GITHUB_STEP_SUMMARY"

    let junit: String?
    var environment = ProcessInfo.processInfo.environment

    /// Writes the JUnit file when asked for and appends `markdown` to the step summary when there is one.
    func publish(_ cases: [JUnitReport.Case], name: String, markdown: String) throws {
        if let junit {
            do {
                try Data(JUnitReport.render(cases, name: name).utf8).write(to: URL(fileURLWithPath: junit), options: .atomic)
            } catch {
                throw CommandFailure(message: "--junit: cannot write \(junit): \(error.localizedDescription)")
            }
        }
        guard let path = environment[Self.stepSummaryVariable], !path.isEmpty else { return }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let file = FileHandle(forWritingAtPath: path) else { throw CommandFailure(message: "\(Self.stepSummaryVariable): cannot append to \(path)") }
        defer { try? file.close() }
        do {
            try file.seekToEnd()
            try file.write(contentsOf: Data((markdown + "\n").utf8))
        } catch {
            throw CommandFailure(message: "\(Self.stepSummaryVariable): cannot append to \(path): \(error.localizedDescription)")
        }
    }
}

/// A wall-clock duration as the CLI prints it: `1.75 s`.
func secondsText(_ duration: Duration) -> String {
    String(format: "%.2f s", duration.inSeconds)
}
