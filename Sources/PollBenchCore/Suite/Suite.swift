import PollBenchRules

/// A whole benchmark, as a suite file describes it: target, workload, strategies, the embedded
/// sandbox's settings, limits, thresholds and comparison tolerance.
public struct Suite: Sendable {
    /// A threshold, for one strategy (by its canonical name) or for all of them.
    public struct Check: Sendable, Equatable {
        public var strategy: String?
        public var threshold: Threshold
    }

    public var name: String
    /// What the suite is for.
    public var description: String
    /// A remote base URL, or nil for the embedded sandbox.
    public var target: String?
    /// The seed of every random choice, the workload's users' and the embedded sandbox's: kept in both
    /// by this one setter, so that they cannot drift apart.
    public var seed: UInt64 {
        get { workload.seed }
        set {
            workload.seed = newValue
            sandbox.seed = newValue
        }
    }
    /// Model seconds per wall second, the run's clock's and the embedded sandbox's: one value, the sandbox's.
    public var timeScale: Double {
        get { sandbox.timeScale }
        set { sandbox.timeScale = newValue }
    }
    public var mixed = false
    public var clientTimeoutMillis: Int64 = 300_000
    /// When a pure `webhook` session reads the status once, model ms; nil: at the client timeout.
    public var webhookTimeoutMillis: Int64?
    public var createRetries = 3
    public var workers = 1
    public var maxDurationMillis: Int64 = 600_000
    /// Hard cap on the client's requests per wall second, over all workers.
    public var maxRequestsPerSecond: Double = 20_000
    public var workload: Workload
    public var strategies: [PollStrategy] = PollStrategy.defaultComparison
    /// The embedded sandbox's settings; its `clients` stay empty (the run makes its own credential).
    public var sandbox = SandboxConfiguration()
    /// The user model file the sandbox's providers' users come from (`sandbox: {users: FILE}`, `--users`);
    /// nil: the sandbox's own.
    public var usersFile: String?
    /// The run's client budget in the embedded sandbox; nil: unlimited (`rateLimit: none`).
    public var rateLimit: TokenBucket.Limit? = .embeddedDefault
    public var endpointLimits: [String: TokenBucket.Limit] = [:]
    public var checks: [Check] = []
    /// `pollbench compare`: a change beyond this fraction is a verdict.
    public var tolerance = 0.05
    /// A capacity search: the open arrival rates (per model second) to try, lowest first.
    public var capacityRates: [Double] = []
    /// A capacity search's step length (model seconds): each step then runs its rate × this many sessions,
    /// so that every step keeps its rate for as long. Nil: every step runs the workload's sessions (a
    /// higher rate then ends sooner).
    public var capacityStepSeconds: Double?

    /// The suite of a capacity search's step at `rate` arrivals per model second (an open arrival model
    /// keeps its kind; a closed one has no rate and is left as it is).
    public func capacityStep(at rate: Double) -> Suite {
        var step = self
        switch workload.arrival {
        case .constant: step.workload.arrival = .constant(perSecond: rate)
        case .poisson: step.workload.arrival = .poisson(perSecond: rate)
        case .closed: return step
        }
        if let seconds = capacityStepSeconds { step.workload.sessions = max(1, Int((rate * seconds).rounded())) }
        return step
    }

    /// The suite's largest run: its own, or its capacity search's last step.
    private var largestRun: Suite { capacityRates.last.map(capacityStep(at:)) ?? self }

    /// The suite with its `optimal` strategies planned for its own users, provider mix and timeouts
    /// (every runner plans them so; planning one already planned does nothing).
    public func planned() -> Suite {
        guard strategies.contains(where: { $0.optimalSchedule.map { $0.plan == nil } ?? false }) else { return self }
        var copy = self
        let planner = OptimalPlanner(suite: self)
        copy.strategies = strategies.map { $0.planned(by: planner) }
        return copy
    }

    /// The model time a simulation of this suite may span: what a live run reaches within its
    /// wall-clock cap (`maxDurationMillis` at `timeScale`).
    public var simulatedSpanCapMillis: Int64 { Int64(Double(maxDurationMillis) * timeScale) }

    /// Refuses, before any work, an open workload whose last session arrives after
    /// ``simulatedSpanCapMillis``: a live run would stop first, and a simulation's idle model seconds
    /// would still cost output.
    public func checkSimulatedSpan() throws(WorkloadError) {
        guard let last = workload.slots().last?.arrivalMillis, last > simulatedSpanCapMillis else { return }
        throw WorkloadError(
            "the last of \(workload.sessions) sessions arrives at \(DurationText.format(last)) of model time, after the cap of \(DurationText.format(simulatedSpanCapMillis)) "
                + "(--max-duration \(DurationText.format(maxDurationMillis)) at time scale \(NumberText.short(timeScale)), what a live run would reach); raise the arrival rate or --max-duration, or lower --sessions"
        )
    }

    /// The thresholds kept for one strategy, or for all, whose strategy is not among `strategies`:
    /// those a `--strategy` override drops.
    public var checksForStrategiesNotRun: [Check] {
        let running = Set(strategies.map(\.name))
        return checks.filter { check in check.strategy.map { !running.contains($0) } ?? false }
    }

    /// A suite with default settings.
    /// A suite of the default settings (time scale 50) around `workload`, whose seed it takes.
    public init(name: String, description: String, workload: Workload) {
        self.name = name
        self.description = description
        self.workload = workload
        sandbox.seed = workload.seed
        sandbox.timeScale = 50
    }

    /// Every threshold checked against every strategy it applies to. Without wall-clock measurements
    /// (the fast simulation), latency and slip thresholds are skipped, and say so.
    public func evaluate(_ record: RunRecord, measuresWallClock: Bool = true) -> [ThresholdResult] {
        checks.flatMap { check in
            record.strategies.filter { check.strategy == nil || check.strategy == $0.name }.map { summary in
                if !measuresWallClock, check.threshold.isWallClock {
                    return ThresholdResult.skipped(check.threshold, strategy: summary.name, because: "the fast simulation measures no wall-clock latency")
                }
                let (passed, measured) = check.threshold.evaluate(summary)
                return ThresholdResult(strategy: summary.name, threshold: check.threshold.expression, measured: measured, passed: passed)
            }
        }
    }
}

/// A suite file that cannot be used: the file, the line and the problem.
extension Suite {
    /// The ranges a run's settings must lie in, wherever they come from (a suite file, flags, the suites
    /// tune and plan build): one rule each.
    public enum Limits {
        public static let sessions = 1...1_000_000
        public static let workers = 1...16
        public static let createRetries = 0...10
        public static let maxRequestsPerSecond: ClosedRange<Double> = 1...1_000_000
        /// Model time for the client and webhook timeouts, wall time for the run's cap: a second to a day.
        public static let durationMillis: ClosedRange<Int64> = 1_000...86_400_000
    }

    /// What a live run of these settings holds at most, per session of each strategy: the engine's session
    /// and its machine and the workload's slot (measured at 0.41 KiB in a release build at 1,000,000 idle
    /// sessions), and at the run's end its row for sessions.csv while the file is sorted and written (an
    /// ended session's row waits on disk until then); over twice that, for headroom.
    public static let liveBytesPerSession: Int64 = 1_024

    /// The memory a live run of these settings may need for its sessions: every session of every strategy
    /// is held until the run ends.
    public var liveSessionBytes: Int64 { Int64(workload.sessions) * Int64(strategies.count) * Self.liveBytesPerSession }

    /// Why this machine cannot hold a live run of these settings, given `available` bytes (nil: unknown);
    /// nil when it can. A run is refused before its first request rather than killed halfway.
    public func memoryProblem(available: Int64?) -> String? {
        let largest = largestRun
        guard let available, largest.liveSessionBytes > available * 4 / 5 else { return nil }
        return "\(largest.workload.sessions) sessions × \(strategies.count) strategies would hold about \(Self.megabytes(largest.liveSessionBytes)) MB "
            + "(up to \(Self.liveBytesPerSession / 1_024) KiB a session until the run ends), over 80 % of the \(Self.megabytes(available)) MB this machine has available: "
            + "lower --sessions, run fewer strategies, or shard the run (--shard)"
    }

    private static func megabytes(_ bytes: Int64) -> Int64 { (bytes + 999_999) / 1_000_000 }

    /// What is wrong with these settings, against ``Limits`` and ``ModelClock/scales``; nil when nothing.
    /// Every way of making a run's settings ends with it, as k6 validates an executor's configuration.
    public func problem() -> String? {
        func outside<T: Comparable & CustomStringConvertible>(_ name: String, _ value: T, _ range: ClosedRange<T>) -> String? {
            range.contains(value) ? nil : "\(name) must be from \(range.lowerBound) to \(range.upperBound), not \(value)"
        }
        func duration(_ name: String, _ millis: Int64?) -> String? {
            guard let millis, !Limits.durationMillis.contains(millis) else { return nil }
            return "\(name) must be from 1s to 24h, not \(DurationText.format(millis))"
        }
        let steps = capacityStepSeconds.flatMap { seconds in capacityRates.last.map { (seconds, capacityStep(at: $0).workload.sessions) } }
        return [
            outside("sessions", workload.sessions, Limits.sessions), outside("workers", workers, Limits.workers),
            steps.flatMap { seconds, sessions in
                Limits.sessions.contains(sessions) ? nil : "a capacity step of \(NumberText.short(seconds)) s at the highest rate would run \(sessions) sessions, over \(Limits.sessions.upperBound)"
            },
            outside("createRetries", createRetries, Limits.createRetries), outside("maxRate", maxRequestsPerSecond, Limits.maxRequestsPerSecond),
            ModelClock.scaleProblem(timeScale).map { "timeScale \($0)" }, duration("clientTimeout", clientTimeoutMillis),
            duration("webhookTimeout", webhookTimeoutMillis), duration("maxDuration", maxDurationMillis),
        ].lazy.compactMap { $0 }.first
    }
}

public struct SuiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let problem: String

    public var description: String { line.map { "\(file):\($0): \(problem)" } ?? "\(file): \(problem)" }
}
