import PollBenchRules

/// The planner for the workloads of the run layer: a suite's, and a capacity question's.
extension OptimalPlanner {
    /// The planner for a suite's workload: its provider mix, with the users its sandbox models.
    public init(suite: Suite) {
        let providers = Dictionary(suite.sandbox.providers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.init(
            populations: Self.populations(suite.workload.providerMix, providers), clientTimeoutMillis: suite.clientTimeoutMillis,
            ttlMillis: Int64(suite.sandbox.ttlSeconds * 1_000), sessions: suite.workload.sessions
        )
    }

    /// The planner for a capacity question's mix, users and timeouts.
    public init(scenario: PlanScenario) {
        let providers = Dictionary(scenario.providers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.init(
            populations: Self.populations(scenario.providerMix, providers), clientTimeoutMillis: scenario.clientTimeoutMillis, ttlMillis: scenario.ttlMillis
        )
    }
}
