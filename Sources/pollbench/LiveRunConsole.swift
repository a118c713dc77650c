import Foundation
import PollBenchCore
import PollBenchLive

/// A live run from the command line: its signal handling and progress line around ``LiveRun``, then its
/// results written to a new run directory and printed.
enum LiveRunConsole {
    /// What the caller needs to choose an exit code.
    struct Outcome {
        var record: RunRecord
        var interrupted: Bool
    }

    /// Runs `settings` live; the first SIGINT or SIGTERM stops it and its partial results are written.
    static func run(_ settings: RunSettings) async throws -> Outcome {
        let stop = StopSignal()
        let interrupts = SignalHandlers.stopping(stop)
        let board = ProgressBoard()
        var run = LiveRun(settings: settings)
        let outcome: LiveRun.Outcome
        let progress = ProgressLine(board: board, total: settings.workload.sessions * settings.strategies.count)
        do {
            outcome = try await run.execute(stop: stop, progress: board) { Console.out($0) }
        } catch let failure as LiveRunFailure {
            await progress.finish()
            throw CommandFailure(message: failure.message, exitCode: failure.exitCode)
        }
        await progress.finish()
        let record = outcome.record
        let directory = try ResultFiles.newRunDirectory(root: settings.output, name: settings.name, startedMillis: outcome.startedMillis)
        try ResultFiles.write(into: directory) { try $0.writeAll(record: record, results: outcome.results, startEpochSeconds: Double(outcome.startedMillis) / 1_000) }
        Console.out(TerminalTable.render(record))
        Console.out("results: \(directory.path) (\(ResultFiles.sizeText(directory))" + (record.run.partial ? "; partial: the run was stopped early)" : ")"))
        try CIOutputs(junit: settings.junit).publish(JUnitReport.cases(record), name: "pollbench.\(settings.name)", markdown: SummaryMarkdown.render(record))
        // An interrupted run's partial results are what was asked for: exit 130, whatever they hold.
        if !interrupts.signalled, let problem = LiveRun.unreachable(record) { throw CommandFailure(message: problem, exitCode: 3) }
        return Outcome(record: record, interrupted: interrupts.signalled)
    }
}
