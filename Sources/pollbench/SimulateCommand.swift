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

    @Option(help: "Every request's round trip, wall time (default 1ms), unless --round-trip-from is given.")
    var roundTrip: String?

    @Option(help: "A live run's directory: draw round trips from its measured status latency (its .hlog).")
    var roundTripFrom: String?

    func run() async throws {
        do {
            var settings = try run.settings(suite: try run.suite.map(SuiteFiles.load))
            guard settings.target == nil else { throw CommandFailure(message: "simulate runs against the sandbox's model; drop --target") }
            let model = try roundTripModel(seed: settings.seed)
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

    private func roundTripModel(seed: UInt64) throws -> RoundTripModel {
        if let roundTripFrom {
            let contents: RunDirectory.Contents
            do { contents = try RunDirectory.read(URL(fileURLWithPath: roundTripFrom)) } catch { throw CommandFailure(message: error.description) }
            guard let strategy = contents.record.strategies.first.flatMap({ try? PollStrategy(parsing: $0.name) }),
                  let text = try? String(contentsOf: URL(fileURLWithPath: roundTripFrom).appendingPathComponent("\(strategy.fileName).hlog"), encoding: .utf8),
                  let latency = HistogramLog.read(text)?.first(where: { $0.tag == "status-latency-uncorrected" })?.histogram
            else { throw CommandFailure(message: "\(roundTripFrom): no status latency to fit a round-trip model to") }
            return .fitted(latency, seed: seed)
        }
        guard let millis = DurationText.milliseconds(roundTrip ?? "1ms"), millis >= 0 else { throw CommandFailure(message: "--round-trip: bad duration '\(roundTrip ?? "")'") }
        return .constant(.milliseconds(millis))
    }
}
