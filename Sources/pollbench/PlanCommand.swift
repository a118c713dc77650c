import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchRules

/// `pollbench plan`: how many verifications a rate limit allows, by the formulas and by simulation.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan capacity: concurrent sessions, request rate, headroom and 429s at an arrival rate, and the largest rate the limit allows; formulas checked by simulation.",
        discussion: """
        The arrival rate is --rate (e.g. 2/s, 120/min) or --daily N at its peak hour (--peak-factor times \
        the day's average). Times are real (model time = wall time). Writes plan.json and plan.md to the run \
        directory. Exit codes: 0 the rate fits (simulated 429 share within --max-429), 1 it does not, 2 bad usage.
        """
    )

    @Option(help: "A suite whose workload, first strategy, rate limit, TTL and client timeout are the defaults.")
    var suite: String?

    @Option(help: "Verifications started per second at the peak, e.g. 2/s, 120/min, 5000/h.")
    var rate: String?

    @Option(help: "Verifications per day instead of --rate; the peak hour runs at --peak-factor times the day's average.")
    var daily: Double?

    @Option(help: "The peak hour's rate over the day's average, with --daily.")
    var peakFactor = 3.0

    @Option(help: "Provider mix, ID[=WEIGHT],… (default: the suite's, or bankidse=3,frejaid=1,smartid=2,evrotrust=1,mitid=1).")
    var providers: String?

    @Option(help: "A user model (users.yaml, as 'pollbench calibrate' writes) instead of the suite's or the sandbox's users.")
    var users: String?

    @Option(help: "The polling strategy (default: the suite's first, or fixed:3s): any, optimal:p99=BOUND included.")
    var strategy: String?

    @Option(help: "The provider's rate limit for this client, e.g. 40/s or 2400/min (default: the suite's).")
    var rateLimit: String?

    @Option(help: "The limit's burst, in requests (default: one second's worth).")
    var burst: Int?

    @Option(help: "Session lifetime at the service before it expires (default 5m).")
    var ttl: String?

    @Option(help: "When the client gives up on a session (default 5m, as the published client).")
    var clientTimeout: String?

    @Option(help: "Seed of arrivals, users and jitter (default 1).")
    var seed: UInt64?

    @Option(name: .customLong("max-429"), help: "The largest share of 429s that still counts as fitting, e.g. 1%.")
    var max429 = "1%"

    @OptionGroup var roundTrip: RoundTripOptions

    @Option(help: "Where run directories go.")
    var output = "results"

    @Option(help: "The run's name, used in its directory name.")
    var name = "plan"

    func run() async throws {
        do {
            try ResultFiles.checkRoot(output)
            let (scenario, allowed) = try self.scenario()
            let model = try roundTrip.model(seed: scenario.seed)
            let roundTripMicros = model.medianNanos / 1_000
            let started = ContinuousClock.now
            let analytic = CapacityAnalysis(scenario: scenario, roundTripMicros: roundTripMicros).figures()
            let simulation = CapacitySimulation(scenario: scenario, roundTrip: model)
            var simulated = simulation.figures()
            simulated.largestArrivalPerSecond = simulation.largestRate(maxRateLimitedShare: allowed, around: analytic.largestArrivalPerSecond ?? scenario.arrivalPerSecond)
            let elapsed = ContinuousClock.now - started
            let report = PlanReport(scenario: scenario, analytic: analytic, simulated: simulated, maxRateLimitedShare: allowed)
            Console.out(report.text() + "\n(simulated in \(secondsText(elapsed)))")
            let directory = try ResultFiles.newRunDirectory(root: output, name: name, startedMillis: WallClock.nowMillis())
            try ResultFiles.write(into: directory) { writer in
                try writer.write([("plan.json", try ResultWriter.json(report.file())), ("plan.md", Data(report.markdown().utf8))])
            }
            Console.out("results: \(directory.path)")
            if !report.fits { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }

    /// The question, from the suite's defaults and the flags; and the 429 share that still fits.
    private func scenario() throws -> (PlanScenario, Double) {
        let base = try suite.map(SuiteFiles.load)
        do {
            let arrival: Double
            if let rate {
                guard daily == nil else { throw CommandFailure(message: "give --rate or --daily, not both") }
                arrival = try FlagValues.rate(rate, flag: "--rate")
            } else if let daily {
                guard daily > 0, peakFactor >= 1, peakFactor <= 24 else { throw CommandFailure(message: "--daily must be above 0 and --peak-factor 1...24") }
                arrival = daily / 86_400 * peakFactor
            } else if let workload = base?.workload, case .constant(let perSecond) = workload.arrival {
                arrival = perSecond
            } else if let workload = base?.workload, case .poisson(let perSecond) = workload.arrival {
                arrival = perSecond
            } else {
                throw CommandFailure(message: "plan needs an arrival rate: --rate (e.g. 2/s) or --daily N")
            }
            guard arrival <= 10_000 else { throw CommandFailure(message: "--rate: at most 10000 verifications per second") }
            let mix = try providers.map(Workload.parseMix) ?? base?.workload.providerMix ?? Workload.defaultMix
            var sandbox = base?.sandbox ?? SandboxConfiguration()
            if let users { try FlagValues.applyUsers(users, to: &sandbox) }
            try FlagValues.refuseUnknownProviders(mix, offered: sandbox.providers.map(\.id), flag: "--providers")
            let chosen = try strategy.map { try PollStrategy(parsing: $0) } ?? base?.strategies.first ?? .fixed(intervalMillis: 3_000)
            let limitRate = try rateLimit.map { try FlagValues.rate($0, flag: "--rate-limit") } ?? base?.rateLimit?.rate
            guard let limitRate else { throw CommandFailure(message: "plan needs the provider's rate limit: --rate-limit (e.g. 40/s)") }
            if let burst, burst < 1 { throw CommandFailure(message: "--burst must be at least 1") }
            var scenario = PlanScenario(
                arrivalPerSecond: arrival, providerMix: mix, strategy: chosen,
                rateLimit: TokenBucket.Limit(rate: limitRate, burst: burst ?? (rateLimit == nil ? base?.rateLimit?.burst : nil) ?? max(1, Int(limitRate.rounded(.up))))
            )
            scenario.providers = sandbox.providers
            scenario.ttlMillis = try duration(ttl, "--ttl") ?? Int64(sandbox.ttlSeconds * 1_000)
            scenario.clientTimeoutMillis = try duration(clientTimeout, "--client-timeout") ?? base?.clientTimeoutMillis ?? 300_000
            scenario.createRetries = base?.createRetries ?? 3
            scenario.seed = seed ?? base?.seed ?? 1
            scenario.webhooks = base?.sandbox.webhooks ?? WebhookConfiguration()
            scenario.webhookTimeoutMillis = base?.webhookTimeoutMillis
            let allowed = try FlagValues.fraction(max429, flag: "--max-429")
            guard allowed <= 1 else { throw CommandFailure(message: "--max-429: a share from 0 to 100%") }
            return (scenario, allowed)
        } catch let error as StrategySyntaxError {
            throw CommandFailure(message: error.description)
        } catch let error as WorkloadError {
            throw CommandFailure(message: error.description)
        }
    }

    private func duration(_ text: String?, _ flag: String) throws -> Int64? {
        guard let text else { return nil }
        guard let millis = DurationText.milliseconds(text), millis >= 1_000, millis <= 86_400_000 else { throw CommandFailure(message: "\(flag): bad duration '\(text)' (1s to 24h)") }
        return millis
    }
}
