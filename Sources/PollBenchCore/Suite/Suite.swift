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
    public var seed: UInt64 = 1
    public var timeScale: Double = 50
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
    /// The run's client budget in the embedded sandbox; nil: unlimited (`rateLimit: none`).
    public var rateLimit: TokenBucket.Limit? = .embeddedDefault
    public var endpointLimits: [String: TokenBucket.Limit] = [:]
    public var checks: [Check] = []
    /// `pollbench compare`: a change beyond this fraction is a verdict.
    public var tolerance = 0.05
    /// A capacity search: the open arrival rates (per model second) to try, lowest first.
    public var capacityRates: [Double] = []

    /// A suite with default settings.
    public init(name: String, description: String, workload: Workload) {
        self.name = name
        self.description = description
        self.workload = workload
    }

    /// Every threshold checked against every strategy it applies to.
    public func evaluate(_ record: RunRecord) -> [ThresholdResult] {
        checks.flatMap { check in
            record.strategies.filter { check.strategy == nil || check.strategy == $0.name }.map { summary in
                let (passed, measured) = check.threshold.evaluate(summary)
                return ThresholdResult(strategy: summary.name, threshold: check.threshold.expression, measured: measured, passed: passed)
            }
        }
    }
}

/// A suite file that cannot be used: the file, the line and the problem.
public struct SuiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let problem: String

    public var description: String { line.map { "\(file):\($0): \(problem)" } ?? "\(file): \(problem)" }
}
