import ArgumentParser
import Foundation
import PollBenchCore

/// `pollbench simulate`: the same run in virtual time, no sockets and no sleeping.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a suite or the default comparison in virtual time against the sandbox's behaviour model; same outputs, marked simulated.",
        discussion: "Takes every option of 'pollbench run' (a remote --target excepted). Exit codes as for run."
    )

    @OptionGroup var run: RunCommand

    @OptionGroup var roundTrip: RoundTripOptions

    func run() async throws {
        do {
            var settings = try run.settings(suite: try run.suite.map(SuiteFiles.load))
            guard settings.target == nil else { throw CommandFailure(message: "simulate runs against the sandbox's model; drop --target") }
            let model = try roundTrip.model(seed: settings.seed)
            settings.name = run.name ?? "simulate"
            let (record, results) = Simulation(suite: settings.suite, roundTrip: model, name: settings.name).run()
            let directory = ResultWriter.directory(root: settings.output, name: settings.name, startedMillis: WallClock.nowMillis())
            do {
                try ResultWriter(directory: directory).writeAll(record: record, results: results, startEpochSeconds: Double(WallClock.nowMillis()) / 1_000)
            } catch {
                throw CommandFailure(message: "cannot write results to \(directory.path): \(error.localizedDescription)")
            }
            Console.out(TerminalTable.render(record))
            Console.out("results: \(directory.path) (simulated)")
            if !record.thresholdsPassed { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }
}
