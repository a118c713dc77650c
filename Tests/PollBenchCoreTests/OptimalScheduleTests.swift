import Foundation
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

@Suite("Optimal poll schedules: planned from the user model, kept by every runner")
struct OptimalScheduleTests {
    static let rtt = RoundTrips.constant(.milliseconds(1))  // 50 ms of model time at the release suite's scale

    static func release(sessions: Int, _ strategies: String...) throws -> Suite {
        var suite = try ShippedSuite.load("release")
        suite.workload.sessions = sessions
        suite.maxDurationMillis = 3_600_000
        suite.strategies = try strategies.map { try PollStrategy(parsing: $0) }
        suite.checks = []
        return suite
    }

    @Test("the syntax: p99 bounds and budgets parse to their canonical names; bad ones say what is wrong")
    func syntax() throws {
        #expect(try PollStrategy(parsing: "optimal:p99=3s").name == "optimal:p99=3s")
        #expect(try PollStrategy(parsing: "optimal:p99=2500ms").name == "optimal:p99=2.5s")
        #expect(try PollStrategy(parsing: "optimal:budget=6").name == "optimal:budget=6")
        #expect(try PollStrategy(parsing: "webhook+optimal:p99=10s").name == "webhook+optimal:p99=10s")
        for bad in ["optimal", "optimal:p99", "optimal:p99=100ms", "optimal:budget=0", "optimal:lag=3s", "optimal:p99=3s,budget=4"] {
            #expect(throws: StrategySyntaxError.self) { try PollStrategy(parsing: bad) }
        }
        #expect(try StrategySweep(parsing: "optimal:p99=2s..4s/3").strategies.map(\.name) == ["optimal:p99=2s", "optimal:p99=3s", "optimal:p99=4s"])
    }

    @Test("the plan for the release mix: each provider's polls start late, keep the bound while users finish, then widen to 30 s, the last a second before the client timeout")
    func planShape() throws {
        let plan = OptimalPlanner(suite: try Self.release(sessions: 300)).plan(.p99Lag(millis: 3_000))
        #expect(plan.providers.map(\.id) == ["bankidse", "frejaid", "smartid", "evrotrust", "mitid"])
        for row in plan.providers where !row.redirect {
            let gaps = zip(row.pollMillis.dropFirst(), row.pollMillis).map { $0 - $1 }
            #expect(row.pollMillis[0] >= 5_000, "\(row.id) polls before anyone can have finished")
            #expect(gaps.allSatisfy { $0 > 0 && $0 <= 30_000 })
            #expect(gaps.prefix(20).allSatisfy { $0 <= 3_000 }, "\(row.id) keeps the bound while its users finish")
            #expect(gaps.filter { $0 == 30_000 }.count >= 4 && row.pollMillis.last == 299_000, "\(row.id) polls to the client timeout")
        }
        #expect(plan.providers.last?.redirect == true && plan.providers.last?.pollMillis == [])
        // 300 sessions: so few over the bound that a run's p99 keeps it with 95 % confidence.
        #expect(plan.overBoundShare <= OptimalPlanner.overBoundAllowance(detected: 280) + 1e-9)
        #expect(plan.expectedPolls < 0.7 * plan.fixedPolls)
    }

    @Test("the share over the bound a plan may use: 0.29 % for a run of 280 ends, 0.80 % for 4,700, 1 % for an unbounded stream")
    func allowance() {
        #expect(abs(OptimalPlanner.overBoundAllowance(detected: 280) - 0.0029) < 0.0002)
        #expect(abs(OptimalPlanner.overBoundAllowance(detected: 4_700) - 0.0080) < 0.0002)
        #expect(OptimalPlanner.overBoundAllowance(detected: nil) == 0.01)
        #expect(OptimalPlanner.overBoundAllowance(detected: 100_000) > OptimalPlanner.overBoundAllowance(detected: 4_700))
    }

    @Test("a budget plans the smallest bound whose expected polls fit it")
    func budget() throws {
        let planner = OptimalPlanner(suite: try Self.release(sessions: 300))
        let plan = planner.plan(.meanPolls(6))
        #expect(plan.expectedPolls <= 6)
        #expect(planner.plan(boundMillis: plan.lagBoundMillis - 60).expectedPolls > 6)
    }

    @Test("a session polls on its provider's row, kept to the planned times; a provider outside the plan polls on the mix's")
    func rows() throws {
        let planner = OptimalPlanner(suite: try Self.release(sessions: 300))
        let strategy = try PollStrategy(parsing: "optimal:p99=3s").planned(by: planner)
        let plan = try #require(strategy.optimalSchedule?.plan)
        let smartid = try #require(plan.providers.first { $0.id == "smartid" })
        var random = SplitMix64(seed: 1)
        var schedule = PollSchedule(strategy: strategy, provider: "smartid")
        #expect(schedule.firstDelay(&random) == smartid.pollMillis[0])
        // Answered 40 ms late: the next wait shortens so the poll keeps its planned time.
        #expect(schedule.nextDelay(after: .notYet, elapsedMillis: smartid.pollMillis[0] + 40, &random) == smartid.pollMillis[1] - smartid.pollMillis[0] - 40)
        var unknown = PollSchedule(strategy: strategy, provider: "nosuch")
        #expect(unknown.firstDelay(&random) == plan.pooled.pollMillis[0])
    }

    @Test("on the release suite, simulated: p99 within 3 s plus the round trip, at least 30 % fewer polls than fixed:3s, within 2 % of the plan's expectation")
    func meetsTheBound() throws {
        let suite = try Self.release(sessions: 5_000, "optimal:p99=3s", "fixed:3s")
        let results = FastSimulation(suite: suite, roundTrip: Self.rtt).summaries()
        let optimal = results[0], fixed = results[1]
        let plan = try #require(optimal.optimalPlan)
        #expect(try #require(optimal.detectionLag.p99) <= 3_000 + 50)
        let polls = try #require(optimal.pollsPerSession.mean), fixedPolls = try #require(fixed.pollsPerSession.mean)
        #expect(polls <= 0.7 * fixedPolls)
        #expect(abs(polls / plan.expectedPolls - 1) < 0.02)
    }
}
