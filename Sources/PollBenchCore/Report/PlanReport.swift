import Foundation

/// A capacity plan's answers side by side, formulas and simulation, as a terminal table, Markdown and
/// plan.json (schema `pollbench.plan/1`).
public struct PlanReport: Sendable {
    public let scenario: PlanScenario
    public let analytic: PlanFigures
    public let simulated: PlanFigures
    /// The 429 share that still counts as fitting.
    public let maxRateLimitedShare: Double

    public init(scenario: PlanScenario, analytic: PlanFigures, simulated: PlanFigures, maxRateLimitedShare: Double) {
        self.scenario = scenario
        self.analytic = analytic
        self.simulated = simulated
        self.maxRateLimitedShare = maxRateLimitedShare
    }

    /// Whether the arrival rate fits the limit: the simulated 429 share is within the allowance.
    public var fits: Bool { simulated.rateLimitedShare <= maxRateLimitedShare }

    /// What was asked, in one line.
    public var question: String {
        let mix = scenario.providerMix.map { "\($0.id)=\(NumberText.short($0.weight))" }.joined(separator: ",")
        let limit = scenario.rateLimit.map { "\(NumberText.short($0.rate))/s (burst \($0.burst))" } ?? "none"
        return "\(scenario.strategy.name) at \(NumberText.short(scenario.arrivalPerSecond))/s (\(NumberText.short(scenario.arrivalPerSecond * 60)) verifications/min), providers \(mix), rate limit \(limit)"
    }

    /// The rows: what, formulas, simulation.
    public func rows() -> [(String, String, String)] {
        let limit = scenario.rateLimit?.rate ?? .infinity
        func headroom(_ f: PlanFigures) -> String {
            limit.isFinite ? String(format: "%.1f/s (%.0f%%)", limit - f.requestsPerSecond, (limit - f.requestsPerSecond) / limit * 100) : "-"
        }
        func largest(_ f: PlanFigures) -> String {
            f.largestArrivalPerSecond.map { String(format: "%.2f/s = %.0f/min", $0, $0 * 60) } ?? "-"
        }
        let pairs: [(String, (PlanFigures) -> String)] = [
            ("concurrent sessions (Little's law)", { String(format: "%.1f", $0.concurrentSessions) }),
            ("session lifetime (mean)", { String(format: "%.1f s", $0.sessionSeconds) }),
            ("requests per session", { String(format: "%.2f", $0.requestsPerSession) }),
            ("polls per session", { String(format: "%.2f", $0.pollsPerSession) }),
            ("request rate (mean)", { String(format: "%.1f/s", $0.requestsPerSecond) }),
            ("request rate (p99 second)", { String(format: "%.0f/s", $0.peakRequestsPerSecond) }),
            ("headroom against the limit", headroom),
            ("429 share", { String(format: "%.2f%%", $0.rateLimitedShare * 100) }),
            ("detection lag p50 / p99", { "\(NumberText.seconds(fromMillis: $0.lagP50Millis)) / \(NumberText.seconds(fromMillis: $0.lagP99Millis))" }),
            ("largest arrival rate that fits", largest),
        ]
        return pairs.map { ($0.0, $0.1(analytic), $0.1(simulated)) }
    }

    /// The terminal table with a verdict.
    public func text() -> String {
        var lines = ["plan: " + question, "metric".padding(toLength: 36, withPad: " ", startingAt: 0) + "formulas".padding(toLength: 24, withPad: " ", startingAt: 0) + "simulation"]
        for (metric, a, s) in rows() {
            lines.append(metric.padding(toLength: 36, withPad: " ", startingAt: 0) + a.padding(toLength: 24, withPad: " ", startingAt: 0) + s)
        }
        lines.append(notes.joined(separator: "\n"))
        lines.append(verdict)
        return lines.joined(separator: "\n")
    }

    /// The verdict in one sentence.
    public var verdict: String {
        let share = String(format: "%.2f%%", simulated.rateLimitedShare * 100), allowed = String(format: "%g%%", maxRateLimitedShare * 100)
        let largest = simulated.largestArrivalPerSecond.map { String(format: "%.0f verifications/min (%.2f/s)", $0 * 60, $0) } ?? "-"
        return (fits ? "fits: " : "does not fit: ") + "\(share) of requests drew 429s (allowed \(allowed)); the limit allows up to \(largest) with this strategy, by simulation."
    }

    /// How to read the columns.
    public var notes: [String] {
        [
            "formulas: each session's path through the strategy integrated over the user model; Little's law; Poisson one-second windows (burst ignored).",
            "simulation: Poisson arrivals in the fast simulation, steady state after one client timeout; largest rate by bisection on the 429 share.",
        ]
    }

    /// plan.md.
    public func markdown() -> String {
        var lines = ["## pollbench plan", "", question, "", "| metric | formulas | simulation |", "|---|---:|---:|"]
        lines += rows().map { "| \($0.0) | \($0.1) | \($0.2) |" }
        lines += [""] + notes.map { "- " + $0 } + ["", "**" + verdict + "**"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// plan.json.
    public func file() -> PlanFile {
        PlanFile(question: question, strategy: scenario.strategy.name, arrivalPerSecond: scenario.arrivalPerSecond,
                 rateLimitPerSecond: scenario.rateLimit?.rate, burst: scenario.rateLimit?.burst, maxRateLimitedShare: maxRateLimitedShare,
                 analytic: analytic, simulated: simulated, fits: fits)
    }
}

/// plan.json (schema `pollbench.plan/1`).
public struct PlanFile: Sendable, Codable, Equatable {
    public var schema = "pollbench.plan/1"
    public var question: String
    public var strategy: String
    public var arrivalPerSecond: Double
    public var rateLimitPerSecond: Double?
    public var burst: Int?
    public var maxRateLimitedShare: Double
    public var analytic: PlanFigures
    public var simulated: PlanFigures
    public var fits: Bool
}
