import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchRules

/// `pollbench tune`: sweeps strategy parameters over a suite's workload in simulation and recommends
/// the cheapest setting that meets a lag target.
struct TuneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Sweep strategy parameters in simulation: the Pareto frontier of requests per session against p99 detection lag, and the cheapest setting that meets a target.",
        discussion: """
        Sweeps: fixed:interval=0.5s..10s/20, exp:initial=0.5s..4s/8,multiplier=1.5..3/4,max=30s, \
        jitter:form=full|equal|decorrelated,base=1s,cap=10s..60s/6, grpc:initial=1s,multiplier=1.2..2/5. \
        The workload is the suite's (or the flags'), as for 'pollbench run'. The recommendation is checked \
        with the engine simulation. Writes tune.csv, tune.json and tune.html to the run directory. \
        Exit codes: 0 done, 1 no swept setting meets --target-p99, 2 bad usage.
        """
    )

    @OptionGroup var run: RunOptions
    @OptionGroup var roundTrip: RoundTripOptions

    @Option(name: .customLong("sweep"), help: "Strategies to try, repeatable (default fixed:interval=0.5s..10s/20).")
    var sweeps: [String] = []

    @Option(help: "Recommend the cheapest setting whose p99 detection lag is within this (model time), e.g. 4s.")
    var targetP99: String?

    @Option(help: "The provider's rate limit, e.g. 40/s or 2400/min: settings that would offer more at the workload's arrival rate are marked (default: the suite's budget, or the embedded default 25/s).")
    var rateLimit: String?

    @Flag(inversion: .prefixedNo, help: "Check the recommendation with the engine simulation.")
    var check = true

    @Option(help: "Print an optimal strategy's planned schedule for the workload (first poll, gaps, where they widen; what the model expects), simulate it, and stop, e.g. optimal:p99=3s.")
    var explain: String?

    func run() async throws {
        do {
            guard run.strategies.isEmpty else { throw CommandFailure(message: "tune sweeps strategies: give --sweep instead of --strategy") }
            var settings = try run.settings(suite: try run.suite.map(SuiteFiles.load))
            do throws(WorkloadError) { try settings.suite.checkSimulatedSpan() } catch { throw CommandFailure(message: error.description) }
            guard settings.target == nil else { throw CommandFailure(message: "tune simulates the sandbox's model; drop --target") }
            guard settings.suite.workload.shard == nil else { throw CommandFailure(message: "tune sweeps the whole workload; drop --shard/--shards") }
            settings.name = run.name ?? "tune"
            let target = try targetP99.map { text -> Double in
                guard let millis = DurationText.milliseconds(text), millis > 0 else { throw CommandFailure(message: "--target-p99: bad duration '\(text)'") }
                return Double(millis)
            }
            var strategies = try sweepStrategies()
            let model = try roundTrip.model(seed: settings.seed)
            // The optimal schedule for the target joins the sweep, recommended when it is the cheapest. A
            // lag includes the poll's round trip, which the plan does not: it is planned for the target
            // less the round trips' 99th percentile (in model time).
            let roundTripMillis = (Double(model.quantileNanos(0.99)) * settings.suite.timeScale / 10_000_000).rounded(.up) * 10
            if let target, target - roundTripMillis >= 250 {
                let optimal = PollStrategy.optimal(.p99Lag(millis: Int64(target - roundTripMillis)))
                if !strategies.contains(optimal) { strategies.append(optimal) }
            }
            let limit = try rateLimit.map { try FlagValues.rate($0, flag: "--rate-limit") } ?? settings.suite.rateLimit?.rate
            // The sweep shows what each setting offers: the embedded default budget only marks the points over
            // it (its 429s would end sessions differently and blur the comparison); a suite's own budget is simulated.
            if settings.suite.rateLimit == .embeddedDefault { settings.suite.rateLimit = nil }
            if let explain { return try explainPlan(explain, suite: settings.suite, model: try roundTrip.model(seed: settings.seed)) }

            let started = ContinuousClock.now
            let points = await Tuning.simulate(strategies, suite: settings.suite, roundTrip: model)
            let tuning = Tuning(points: points, targetP99: target, limitPerSecond: limit)
            let elapsed = ContinuousClock.now - started
            let caption = "\(settings.suite.workload.sessions) sessions per point, \(settings.suite.workload.arrival.name), seed \(settings.seed)"
                + (limit.map { ", rate limit \(NumberText.short($0))/s" } ?? "") + "; \(points.count) points simulated in \(secondsText(elapsed))"
            Console.out("tune: \(caption)")
            Console.out(frontierTable(tuning))
            Console.out(TuningReport.recommendation(tuning))
            if check, let index = tuning.recommended, let strategy = strategies.first(where: { $0.name == tuning.points[index].strategy }) {
                Console.out(engineCheck(strategy, point: tuning.points[index], suite: settings.suite, model: model))
            }
            let directory = try ResultFiles.newRunDirectory(root: settings.output, name: settings.name, startedMillis: WallClock.nowMillis())
            let json = TuneFile(workload: caption, targetP99Millis: target, rateLimitPerSecond: limit, recommended: tuning.recommended.map { tuning.points[$0].strategy }, points: tuning.points)
            try ResultFiles.write(into: directory) { writer in
                try writer.write([
                    ("tune.csv", Data(tuning.csv().utf8)),
                    ("tune.json", try ResultWriter.json(json)),
                    ("tune.html", Data(TuningReport.render(tuning, title: "pollbench tune: \(settings.name)", caption: caption).utf8)),
                ])
            }
            Console.out("results: \(directory.path)")
            if target != nil, tuning.recommended == nil { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }

    private func sweepStrategies() throws -> [PollStrategy] {
        var strategies: [PollStrategy] = []
        for text in sweeps.isEmpty ? ["fixed:interval=0.5s..10s/20"] : sweeps {
            do {
                strategies += try StrategySweep(parsing: text).strategies.filter { !strategies.contains($0) }
            } catch {
                throw CommandFailure(message: error.description)
            }
        }
        guard strategies.count <= StrategySweep.maximumCount else { throw CommandFailure(message: "the sweeps name \(strategies.count) strategies; at most \(StrategySweep.maximumCount)") }
        return strategies
    }

    /// `--explain`: the plan in words, then the fast simulation's measure of it.
    private func explainPlan(_ text: String, suite: Suite, model: RoundTrips) throws {
        let strategy: PollStrategy
        do throws(StrategySyntaxError) { strategy = try PollStrategy(parsing: text) } catch { throw CommandFailure(message: "--explain: \(error.description)") }
        guard strategy.optimalSchedule != nil else { throw CommandFailure(message: "--explain takes an optimal strategy, e.g. optimal:p99=3s") }
        var single = suite
        single.strategies = [strategy.planned(by: OptimalPlanner(suite: suite))]
        single.mixed = false
        single.checks = []
        guard let plan = single.strategies[0].optimalSchedule?.plan else { return }
        Console.out(OptimalPlanText.lines(plan, name: strategy.name).joined(separator: "\n"))
        guard let summary = FastSimulation(suite: single, roundTrip: model).summaries().first else { return }
        let measured = summary.pollsPerSession.mean ?? 0
        Console.out(String(
            format: "fast simulation, %d sessions (seed %llu): %.2f polls per session (%+.1f%% from the plan's %.2f), p99 detection lag %@",
            summary.sessions, suite.seed, measured, (measured / plan.expectedPolls - 1) * 100, plan.expectedPolls, NumberText.seconds(fromMillis: summary.detectionLag.p99)
        ))
    }

    /// The frontier, cheapest first, as a terminal table.
    private func frontierTable(_ tuning: Tuning) -> String {
        var lines = ["Pareto frontier (\(tuning.frontier.count) of \(tuning.points.count) points):",
                     "strategy".padding(toLength: 34, withPad: " ", startingAt: 0) + "  req/session   lag p50   lag p99    429s   offered req/s"]
        for point in tuning.frontier {
            var line = point.strategy.padding(toLength: 34, withPad: " ", startingAt: 0)
            let lag = { (millis: Double?) in String(repeating: " ", count: max(0, 8 - NumberText.seconds(fromMillis: millis).count)) + NumberText.seconds(fromMillis: millis) }
            line += String(format: "  %11.1f", point.requestsPerSession) + "  \(lag(point.lagP50))  \(lag(point.lagP99))" + String(format: "  %5.1f%%  %14.1f", point.rateLimitedShare * 100, point.offeredPerSecond)
            if point.overLimit { line += "  over the limit" }
            if let index = tuning.recommended, tuning.points[index] == point { line += "  ← recommended" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// The recommendation simulated again by the real engine through the sandbox's documents.
    private func engineCheck(_ strategy: PollStrategy, point: TuningPoint, suite: Suite, model: RoundTrips) -> String {
        var single = suite
        single.strategies = [strategy]
        single.mixed = false
        single.checks = []
        guard let summary = Simulation(suite: single, roundTrip: model, name: "tune-check").run().record.strategies.first else { return "engine check: no result" }
        let lag = { (millis: Double?) in millis.map { String(format: "%.2fs", $0 / 1_000) } ?? NumberText.noData }
        return "engine check (full simulation through the sandbox's documents): p99 lag \(lag(summary.detectionLag.p99)) (fast \(lag(point.lagP99))), "
            + String(format: "%.1f requests per session (fast %.1f)", summary.requestsPerSession, point.requestsPerSession)
    }
}

/// tune.json (schema `pollbench.tune/1`).
struct TuneFile: Encodable {
    var schema = "pollbench.tune/1"
    var workload: String
    var targetP99Millis: Double?
    var rateLimitPerSecond: Double?
    var recommended: String?
    var points: [TuningPoint]
}
