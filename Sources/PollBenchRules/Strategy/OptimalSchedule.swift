/// What an `optimal` strategy is asked for.
public enum OptimalGoal: Sendable, Hashable {
    /// `optimal:p99=3s`: the fewest polls whose p99 detection lag stays within this many model ms.
    case p99Lag(millis: Int64)
    /// `optimal:budget=6`: the smallest p99 detection lag whose mean polls per session stay within this.
    case meanPolls(Double)

    /// The strategy's parameter as written.
    var text: String {
        switch self {
        case .p99Lag(let millis): "p99=\(DurationText.format(millis))"
        case .meanPolls(let polls): "budget=\(polls == polls.rounded() ? String(Int(polls)) : String(polls))"
        }
    }
}

/// An `optimal` strategy's schedule: its goal and, once planned for a run's user model (``OptimalPlanner``),
/// the poll times of each provider's sessions. Shared, never changed: every session of the strategy
/// reads the same one. Two are equal when their goals are, as the strategies' names are.
public final class OptimalSchedule: Sendable, Hashable {
    public let goal: OptimalGoal
    /// The plan; nil until planned.
    public let plan: OptimalPlan?
    /// Each plan row's poll times (model ms after the create's answer).
    private let times: [[Int64]]
    private let rows: [String: Int]

    init(goal: OptimalGoal, plan: OptimalPlan? = nil) {
        self.goal = goal
        self.plan = plan
        times = plan.map { [$0.pooled.pollMillis] + $0.providers.map(\.pollMillis) } ?? []
        rows = Dictionary(plan?.providers.enumerated().map { ($1.id, $0 + 1) } ?? [], uniquingKeysWith: { first, _ in first })
    }

    /// The row of `provider`'s schedule: the pooled one (0) for a provider the plan does not know.
    func row(_ provider: String?) -> Int32 {
        Int32(provider.flatMap { rows[$0] } ?? 0)
    }

    /// The wait before poll `attempt` (0: the first) of row `row`, `elapsedMillis` after the create's
    /// answer: to the poll's planned time, so that round trips do not push the schedule later (nil: the
    /// planned gap). None after the row's last poll.
    func wait(row: Int32, attempt: Int, elapsedMillis: Int64?) -> Int64? {
        guard Int(row) < times.count, attempt < times[Int(row)].count else { return nil }
        let polls = times[Int(row)]
        guard let elapsedMillis else { return polls[attempt] - (attempt == 0 ? 0 : polls[attempt - 1]) }
        return max(0, polls[attempt] - elapsedMillis)
    }

    public static func == (a: OptimalSchedule, b: OptimalSchedule) -> Bool { a.goal == b.goal }
    public func hash(into hasher: inout Hasher) { hasher.combine(goal) }
}

/// An optimal schedule as planned: the poll times per provider and what the model predicts of them.
public struct OptimalPlan: Sendable, Codable, Equatable {
    /// One provider's schedule.
    public struct Row: Sendable, Codable, Equatable {
        public var id: String
        /// The provider's share of the workload.
        public var weight: Double
        /// Whether the flow tells when the user comes back (the status is read then; polls are a fallback).
        public var redirect: Bool
        /// Poll times, model ms after the create's answer.
        public var pollMillis: [Int64]
        /// Polls per session the model expects.
        public var expectedPolls: Double
    }

    /// The p99 detection lag bound the schedule keeps (model ms).
    public var lagBoundMillis: Int64
    /// The grid poll times are chosen on (model ms).
    public var gridMillis: Double
    /// Polls per session the model expects, over the workload's mix.
    public var expectedPolls: Double
    /// The share of sessions that see their end whose lag the model expects over the bound (at most 1 %).
    public var overBoundShare: Double
    /// The cheapest fixed interval within the bound, and its expected polls per session, for comparison.
    public var fixedPolls: Double
    /// The providers' schedules, in the mix's order.
    public var providers: [Row]
    /// The schedule for a provider outside the mix: planned for the mix as a whole.
    public var pooled: Row
}
