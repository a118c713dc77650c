import Foundation

/// Two runs compared per strategy and metric, with a verdict for each from a tolerance: the way
/// package-benchmark checks a baseline.
public struct RunComparison: Sendable {
    public enum Verdict: String, Sendable, Codable {
        /// `noData`: one run has no figure for the metric (an empty distribution), so nothing is judged.
        case improved, regressed, unchanged, noData = "no data"
    }

    public struct Row: Sendable, Equatable {
        public var strategy: String
        public var metric: String
        /// Nil when that run has no data for the metric.
        public var base: Double?
        public var new: Double?
        /// (new − base) / base; nil when base is zero or either has no data.
        public var change: Double?
        public var verdict: Verdict
    }

    /// A compared figure: its name, how to read it, and whether lower is better.
    struct Metric: Sendable {
        let name: String
        let unit: String
        let lowerIsBetter: Bool
        let read: @Sendable (StrategySummary) -> Double?
    }

    static let metrics: [Metric] = [
        Metric(name: "detection lag p50", unit: "ms", lowerIsBetter: true) { $0.detectionLag.p50 },
        Metric(name: "detection lag p90", unit: "ms", lowerIsBetter: true) { $0.detectionLag.p90 },
        Metric(name: "detection lag p99", unit: "ms", lowerIsBetter: true) { $0.detectionLag.p99 },
        Metric(name: "time to result p50", unit: "ms", lowerIsBetter: true) { $0.timeToResult.p50 },
        Metric(name: "polls / session", unit: "", lowerIsBetter: true) { $0.pollsPerSession.mean },
        Metric(name: "requests / session", unit: "", lowerIsBetter: true) { $0.requestsPerSession },
        Metric(name: "429s", unit: "", lowerIsBetter: true) { Double($0.rateLimited) },
        Metric(name: "errors", unit: "", lowerIsBetter: true) { Double(Threshold.count("errors", in: $0)) },
        Metric(name: "completed share", unit: "%", lowerIsBetter: false) { $0.sessions == 0 ? 0 : Double($0.outcomes["completed"] ?? 0) * 100 / Double($0.sessions) },
        Metric(name: "status latency p99", unit: "ms", lowerIsBetter: true) { $0.latency["status"]?.fromIntended.p99 },
    ]

    public let rows: [Row]
    /// Strategies in only one of the two runs.
    public let unmatched: [String]
    public let tolerance: Double

    /// Compares `new` with `base`; a change within `tolerance` (a fraction) is `unchanged`.
    public init(base: RunRecord, new: RunRecord, tolerance: Double) {
        self.tolerance = tolerance
        var rows: [Row] = []
        for summary in new.strategies {
            guard let old = base.strategies.first(where: { $0.name == summary.name }), old.sessions > 0, summary.sessions > 0 else { continue }
            for metric in Self.metrics {
                guard let before = metric.read(old), let after = metric.read(summary) else {
                    rows.append(Row(strategy: summary.name, metric: metric.name, base: metric.read(old), new: metric.read(summary), change: nil, verdict: .noData))
                    continue
                }
                let change = before == 0 ? nil : (after - before) / before
                let worse = metric.lowerIsBetter ? after > before : after < before
                let beyond = change.map { abs($0) > tolerance } ?? (after != before)
                let verdict: Verdict = !beyond ? .unchanged : worse ? .regressed : .improved
                rows.append(Row(strategy: summary.name, metric: metric.name, base: before, new: after, change: change, verdict: verdict))
            }
        }
        self.rows = rows
        let baseNames = Set(base.strategies.map(\.name)), newNames = Set(new.strategies.map(\.name))
        unmatched = baseNames.symmetricDifference(newNames).sorted()
    }

    public var hasRegression: Bool { rows.contains { $0.verdict == .regressed } }

    /// A Markdown table for a pull-request comment.
    public func markdown(baseName: String, newName: String) -> String {
        let counts = Dictionary(grouping: rows, by: \.verdict).mapValues(\.count)
        var lines = [
            "## pollbench: \(newName) vs \(baseName)", "",
            "\(counts[.regressed] ?? 0) regressed, \(counts[.improved] ?? 0) improved, \(counts[.unchanged] ?? 0) unchanged, \(counts[.noData] ?? 0) with no data (tolerance \(Self.percent(tolerance)))", "",
            "| strategy | metric | base | new | change | verdict |",
            "|---|---|---:|---:|---:|---|",
        ]
        for row in rows {
            let unit = Self.metrics.first { $0.name == row.metric }?.unit ?? ""
            let change = row.change.map { String(format: "%+.1f%%", $0 * 100) } ?? (row.verdict == .noData ? NumberText.noData : row.base == row.new ? "0" : "new")
            let mark = switch row.verdict {
            case .regressed: "❌ regressed"
            case .improved: "✅ improved"
            case .unchanged: "unchanged"
            case .noData: "no data: not judged"
            }
            lines.append("| \(row.strategy) | \(row.metric) | \(Self.number(row.base, unit)) | \(Self.number(row.new, unit)) | \(change) | \(mark) |")
        }
        if !unmatched.isEmpty { lines += ["", "In one run only: " + unmatched.joined(separator: ", ")] }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func number(_ value: Double?, _ unit: String) -> String {
        guard let value else { return NumberText.noData }
        let text = NumberText.short(value)
        return unit.isEmpty ? text : "\(text) \(unit)"
    }

    private static func percent(_ fraction: Double) -> String { String(format: "%g%%", fraction * 100) }
}
