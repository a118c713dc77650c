import Foundation
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

@Suite("Calibration: a user model fitted to sessions.csv, and the schedule planned on it")
struct UserModelFitTests {
    /// Sessions of a fast simulation of `suite`'s workload, as sessions.csv has them.
    static func rows(_ suite: Suite) -> [SessionRow] {
        SessionsCSV.rows(FastSimulation(suite: suite, roundTrip: .constant(.milliseconds(1)), keepsIntervals: true).run())
    }

    static func suite(sessions: Int, mix: [(id: String, weight: Double)], strategy: String = "fixed:3s") throws -> Suite {
        var suite = Suite(name: "calibrate", description: "", workload: Workload(sessions: sessions, arrival: .constant(perSecond: 20), seed: 3))
        suite.workload.providerMix = mix
        suite.strategies = [try PollStrategy(parsing: strategy)]
        suite.maxDurationMillis = 3_600_000
        suite.rateLimit = nil  // the users, not a budget, decide when sessions end
        return suite
    }

    /// The `q` quantile of the model's time to the outcome, from its distribution on a 50 ms grid.
    static func quantile(_ behaviour: UserBehaviour, _ q: Double) -> Double {
        let cdf = behaviour.outcomeDistribution(grid: 0.05, count: 6_000)
        return Double(cdf.firstIndex { $0 >= q } ?? cdf.count) * 0.05
    }

    @Test("5,000 sessions recover each provider's median and p95 within 5 % and its shares within 2 points, from exact ends and from ends known only between polls", arguments: [true, false])
    func recovers(exact: Bool) throws {
        let suite = try Self.suite(sessions: 5_000, mix: [("bankidse", 1), ("smartid", 1)])
        var rows = Self.rows(suite)
        if !exact { rows = rows.map { var row = $0; row.endAfterMillis = nil; return row } }  // a provider whose documents date nothing
        let fit = UserModelFit(rows: rows)
        #expect(fit.providers.map(\.id).sorted() == ["bankidse", "smartid"])
        for provider in fit.providers {
            let truth = try #require(Provider.catalogue.first { $0.id == provider.id }).behaviour
            let fitted = try #require(provider.behaviour.outcomeTime)
            #expect(abs(fitted.median / Self.quantile(truth, 0.5) - 1) < 0.05, "\(provider.id) median \(fitted.median)")
            #expect(abs(fitted.p95 / Self.quantile(truth, 0.95) - 1) < 0.05, "\(provider.id) p95 \(fitted.p95)")
            #expect(abs(provider.behaviour.completed - truth.completed) < 0.02 && abs(provider.behaviour.abandoned - truth.abandoned) < 0.02)
            #expect(exact ? provider.bracketed == 0 : provider.exact == 0)
            if exact { #expect(provider.ksDistance < 0.05) }  // bracketed ends enter the data at their interval's middle
        }
    }

    @Test("calibrate, then optimise: the schedule planned on the fit costs and lags within 5 % of the one planned on the true users, run on the true users")
    func roundTrip() throws {
        let mix: [(id: String, weight: Double)] = [("bankidse", 3), ("frejaid", 1), ("smartid", 2), ("evrotrust", 1)]
        let truth = try Self.suite(sessions: 5_000, mix: mix)
        var fitted = truth
        for provider in UserModelFit(rows: Self.rows(truth)).providers {
            fitted.sandbox.providers[fitted.sandbox.providers.firstIndex { $0.id == provider.id }!].behaviour = provider.behaviour
        }
        func run(plannedOn model: Suite) throws -> StrategySummary {
            var suite = truth
            suite.workload.seed = 9  // other users than those calibrated on
            suite.strategies = [try PollStrategy(parsing: "optimal:p99=3s").planned(by: OptimalPlanner(suite: model))]
            return FastSimulation(suite: suite, roundTrip: .constant(.milliseconds(1))).summaries()[0]
        }
        let own = try run(plannedOn: truth), calibrated = try run(plannedOn: fitted)
        #expect(abs(calibrated.requestsPerSession / own.requestsPerSession - 1) < 0.05)
        #expect(abs(try #require(calibrated.detectionLag.p99) / (try #require(own.detectionLag.p99)) - 1) < 0.05)
    }

    @Test("sessions.csv: rows read back as written, a bad line is named, and a merge keeps every shard's rows")
    func sessionsFile() throws {
        var suite = try Self.suite(sessions: 40, mix: [("bankidse", 1), ("mitid", 1)])
        suite.strategies.append(.exponential(initialMillis: 1_000, multiplier: 2, maxMillis: 30_000))
        let rows = Self.rows(suite)
        #expect(rows.count == 80 && rows.contains { $0.redirect } && rows.contains { $0.openUntilMillis != nil })
        let text = SessionsCSV.write(rows)
        #expect(try SessionsCSV.read(text).get() == rows)
        #expect(text.utf8.count < rows.count * 110)
        guard case .failure(let error) = SessionsCSV.read(text + "\"fixed:3s\",k,bankidse,app,completed,x,1,2,,,\n") else { Issue.record("a bad row was read"); return }
        #expect(error.line == rows.count + 2)
    }

    @Test("users.yaml: both forms read, what calibrate writes reads back, and mistakes are named with their line")
    func userModelFile() throws {
        let text = """
        providers:
          bankidse:
            outcomeTime: {median: 21.4s, p95: 58.9s}
            completed: 0.85
            failed: 0.05
            cancelled: 0.03
          smartid:
            firstAction: {median: 5s, p95: 15s}
            completion: {median: 10s, p95: 30s}
            completed: 0.9
        """
        let model = try UserModelFile.parse(text, file: "users.yaml")
        #expect(model["bankidse"]?.outcomeTime == LogNormal(median: 21.4, p95: 58.9) && abs((model["bankidse"]?.abandoned ?? 0) - 0.07) < 1e-9)
        #expect(model["smartid"]?.outcomeTime == nil && model["smartid"]?.completion == LogNormal(median: 10, p95: 30))
        let rendered = UserModelFile.render([("bankidse", model["bankidse"]!), ("smartid", model["smartid"]!)], comment: "test")
        #expect(try UserModelFile.parse(rendered, file: "again.yaml") == model)
        let both = text.replacingOccurrences(of: "completion: {median: 10s, p95: 30s}", with: "completion: {median: 10s, p95: 30s}\n    outcomeTime: {median: 9s, p95: 20s}")
        #expect(throws: SuiteError.self) { try UserModelFile.parse(both, file: "u.yaml") }
        do {
            _ = try UserModelFile.parse(text.replacingOccurrences(of: "failed: 0.05", with: "faild: 0.05"), file: "u.yaml")
            Issue.record("a misspelt key was taken")
        } catch {
            #expect(error.description == "u.yaml:5: unknown key 'faild' in 'bankidse'")
        }
        var sandbox = SandboxConfiguration()
        #expect(throws: SuiteError.self) { try sandbox.apply(users: ["nosuch": model["bankidse"]!], file: "u.yaml") }
        try sandbox.apply(users: model, file: "u.yaml")
        #expect(sandbox.providers.first { $0.id == "bankidse" }?.behaviour.outcomeTime == LogNormal(median: 21.4, p95: 58.9))
    }
}
