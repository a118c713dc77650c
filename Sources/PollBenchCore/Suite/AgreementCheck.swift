import Foundation

/// A simulation held against a live run of the same suite: per strategy, mean polls and requests per
/// session and detection lag p50 and p90, each within a tolerance of the live figure.
public struct AgreementCheck: Sendable {
    public struct Row: Sendable, Equatable {
        public var strategy: String
        public var metric: String
        /// Nil when that run has no data for the metric; the row agrees only when neither has.
        public var live: Double?
        public var simulated: Double?
        /// (simulated − live) / live; nil when live is zero.
        public var difference: Double?
        public var agrees: Bool
    }

    static let metrics: [(name: String, read: @Sendable (StrategySummary) -> Double?)] = [
        ("polls / session (mean)", { $0.pollsPerSession.mean }),
        ("requests / session", { $0.requestsPerSession }),
        ("detection lag p50 (ms)", { $0.detectionLag.p50 }),
        ("detection lag p90 (ms)", { $0.detectionLag.p90 }),
    ]

    public let rows: [Row]
    /// Strategies in only one of the two runs.
    public let unmatched: [String]
    public let tolerance: Double

    public init(live: RunRecord, simulated: RunRecord, tolerance: Double) {
        self.tolerance = tolerance
        rows = simulated.strategies.flatMap { sim -> [Row] in
            guard let real = live.strategies.first(where: { $0.name == sim.name }) else { return [] }
            return Self.metrics.map { metric in
                guard let a = metric.read(real), let b = metric.read(sim) else {
                    return Row(strategy: sim.name, metric: metric.name, live: metric.read(real), simulated: metric.read(sim), difference: nil, agrees: metric.read(real) == metric.read(sim))
                }
                let difference = a == 0 ? nil : (b - a) / a
                return Row(strategy: sim.name, metric: metric.name, live: a, simulated: b, difference: difference, agrees: difference.map { abs($0) <= tolerance } ?? (a == b))
            }
        }
        unmatched = Set(live.strategies.map(\.name)).symmetricDifference(simulated.strategies.map(\.name)).sorted()
    }

    private static func cell(_ value: Double?) -> String {
        let text = value.map { String(format: "%.2f", $0) } ?? NumberText.noData
        return String(repeating: " ", count: max(0, 10 - text.count)) + text
    }

    /// Every figure agrees and both runs have the same strategies.
    public var agrees: Bool { !rows.isEmpty && unmatched.isEmpty && rows.allSatisfy(\.agrees) }

    /// The differences as a terminal table, with a last line saying whether they agree.
    public func text() -> String {
        var lines = ["strategy".padding(toLength: 30, withPad: " ", startingAt: 0) + "metric".padding(toLength: 26, withPad: " ", startingAt: 0) + "      live  simulated  difference"]
        for row in rows {
            let difference = row.difference.map { String(format: "%+9.1f%%", $0 * 100) } ?? "        -"
            lines.append(row.strategy.padding(toLength: 30, withPad: " ", startingAt: 0) + row.metric.padding(toLength: 26, withPad: " ", startingAt: 0)
                + Self.cell(row.live) + " " + Self.cell(row.simulated) + " " + difference + (row.agrees ? "" : "  ✗"))
        }
        if !unmatched.isEmpty { lines.append("in one run only: " + unmatched.joined(separator: ", ")) }
        let beyond = rows.filter { !$0.agrees }.count
        lines.append(agrees ? "agreement: every figure within \(String(format: "%g", tolerance * 100))% of the live run"
            : "agreement: \(beyond) of \(rows.count) figures beyond \(String(format: "%g", tolerance * 100))% of the live run")
        return lines.joined(separator: "\n")
    }
}
