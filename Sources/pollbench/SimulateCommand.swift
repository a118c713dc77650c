import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchRules

/// `pollbench simulate`: the same run in virtual time, no sockets and no sleeping.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a suite or the default comparison in virtual time against the sandbox's rules; same outputs, marked simulated.",
        discussion: "Takes every option of 'pollbench run' (a remote --target excepted). Exit codes as for run."
    )

    @OptionGroup var run: RunOptions

    @OptionGroup var roundTrip: RoundTripOptions

    @Option(help: "A live run of the same suite: print the differences in mean polls per session and detection lag p50 and p90 per strategy, exit 1 beyond --tolerance. Round trips are fitted from it unless given.")
    var checkAgainst: String?

    @Option(help: "With --check-against: the largest difference that counts as agreeing, e.g. 5%.")
    var tolerance = "5%"

    @Flag(help: "Run the fast simulation (the one behind tune and plan: no HTTP documents, no latency or slip) with the usual outputs. With a fixed round trip its counts and detection lag equal the engine simulation's.")
    var fast = false

    func run() async throws {
        do {
            var settings = try run.settings(suite: try run.suite.map(SuiteFiles.load))
            guard settings.target == nil else { throw CommandFailure(message: "simulate runs against the sandbox's model; drop --target") }
            do throws(WorkloadError) { try settings.suite.checkSimulatedSpan() } catch { throw CommandFailure(message: error.description) }
            if let line = settings.unjudgedThresholdsLine { Console.out(line) }
            // Read first, so that a bad path or tolerance fails before the work.
            let live = try checkAgainst.map { try RunFiles.record($0, output: settings.output).0 }
            let fraction = try FlagValues.fraction(tolerance, flag: "--tolerance")
            var options = roundTrip
            if let checkAgainst, options.roundTrip == nil, options.roundTripFrom == nil { options.roundTripFrom = checkAgainst }
            let model = try options.model(seed: settings.seed)
            settings.name = run.name ?? "simulate"
            let (record, results) = fast
                ? FastSimulation(suite: settings.suite, roundTrip: model, keepsIntervals: true).record(name: settings.name)
                : Simulation(suite: settings.suite, roundTrip: model, name: settings.name).run()
            let directory = try ResultFiles.newRunDirectory(root: settings.output, name: settings.name, startedMillis: WallClock.nowMillis())
            // A simulation's intervals are model seconds: its logs start when the simulated service does.
            try ResultFiles.write(into: directory) { try $0.writeAll(record: record, results: results, startEpochSeconds: Double(Simulation.startMillis) / 1_000) }
            Console.out(TerminalTable.render(record))
            Console.out("results: \(directory.path) (simulated; \(ResultFiles.sizeText(directory)))")
            try CIOutputs(junit: settings.junit).publish(JUnitReport.cases(record), name: "pollbench.\(settings.name)", markdown: SummaryMarkdown.render(record))
            if let live {
                let check = AgreementCheck(live: live, simulated: record, tolerance: fraction)
                Console.out(check.text())
                if !check.agrees { throw ExitCode(1) }
            }
            if record.fails { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }
}
