import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchRules

/// `pollbench calibrate`: a user model fitted to what runs saw of their sessions.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit a user model (users.yaml) to runs' sessions: per provider, the outcomes' shares and a log-normal time to the outcome.",
        discussion: """
        Reads each run directory's sessions.csv. An end a document dates is exact; one seen only between two \
        polls is interval-censored; the fit is a censored log-normal maximum likelihood, printed against the \
        data. Sessions the client gave up on count as abandoned. The model goes to suites (sandbox: {users: FILE}), \
        'pollbench sandbox --users', and run, simulate, tune and plan --users, where optimal strategies are planned for it. \
        Exit codes: 0 written, 2 bad usage or no session to fit.
        """
    )

    @Argument(help: "Run directories (live, simulated or merged).")
    var directories: [String] = []

    @Option(help: "Where the user model goes (YAML); an existing file is kept unless --force.")
    var output: String

    @Option(help: "Only this strategy's sessions (a sequential run against the embedded sandbox replays the same users for each strategy).")
    var strategy: String?

    @Flag(help: "Replace --output if it exists.")
    var force = false

    func run() throws {
        do {
            guard !directories.isEmpty else { throw CommandFailure(message: "calibrate needs run directories with sessions.csv") }
            try ResultFiles.checkFile(output, flag: "--output")
            if !force, FileManager.default.fileExists(atPath: output) { throw CommandFailure(message: "--output \(output) exists; give --force to replace it") }
            let name = try strategy.map { text -> String in
                do throws(StrategySyntaxError) { return try PollStrategy(parsing: text).name } catch { throw CommandFailure(message: "--strategy: \(error.description)") }
            }
            var rows: [SessionRow] = []
            for path in directories {
                let found: [SessionRow]
                do throws(RunDirectory.ReadError) { found = try RunDirectory.sessions(in: URL(fileURLWithPath: path)) } catch { throw CommandFailure(message: error.description) }
                guard !found.isEmpty else { throw CommandFailure(message: "\(path) has no sessions.csv rows (a run from before pollbench wrote them, or not a run directory)") }
                rows += found.filter { name == nil || $0.strategy == name }
            }
            let fit = UserModelFit(rows: rows)
            guard !fit.providers.isEmpty else { throw CommandFailure(message: "no session saw its user's end\(name.map { " under \($0)" } ?? ""): nothing to fit") }
            Console.out(Self.table(fit, sessions: rows.count, runs: directories.count))
            let comment = "pollbench user model, calibrated \(ISO8601Millis.format(WallClock.nowMillis())) from \(rows.count) sessions of \(directories.count) run(s)"
                + (name.map { " (\($0))" } ?? "") + ":\n" + directories.joined(separator: "\n")
            let text = UserModelFile.render(fit.providers.map { ($0.id, $0.behaviour) }, comment: comment)
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch { throw CommandFailure(message: "cannot write \(output): \(error.localizedDescription)") }
            Console.out("users: \(output)")
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }

    /// Each provider's fit beside its data.
    static func table(_ fit: UserModelFit, sessions: Int, runs: Int) -> String {
        func seconds(_ value: Double) -> String { String(format: "%.2fs", value) }
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        var lines = ["calibrated from \(sessions) sessions of \(runs) run(s); time to the outcome, log-normal fit against the data:"]
        let header = ["provider", "sessions", "exact", "bracketed", "completed", "failed", "cancelled", "abandoned", "median fit", "data", "p95 fit", "data", "KS"]
        var table = [header]
        for provider in fit.providers {
            let b = provider.behaviour
            let time = b.outcomeTime ?? b.completion
            table.append([
                provider.id, String(provider.sessions), String(provider.exact), String(provider.bracketed), percent(b.completed), percent(b.failed),
                percent(b.cancelled), percent(b.abandoned), seconds(time.median), seconds(provider.dataMedian), seconds(time.p95), seconds(provider.dataP95),
                String(format: "%.3f", provider.ksDistance),
            ])
        }
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        lines += table.map { row in row.enumerated().map { $0.offset == 0 ? $0.element.padding(toLength: widths[0], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[$0.offset] - $0.element.count) + $0.element }.joined(separator: "  ") }
        if !fit.unfitted.isEmpty { lines.append("not fitted (no session saw its user's end): \(fit.unfitted.joined(separator: ", "))") }
        lines.append("data: exact ends, and bracketed ones at their interval's middle; KS: the largest gap between the two distributions")
        return lines.joined(separator: "\n")
    }
}
