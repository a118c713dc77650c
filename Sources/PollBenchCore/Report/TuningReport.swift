import Foundation
import PollBenchRules

/// tune.html: a sweep's points as a scatter of requests per session against p99 detection lag, the
/// Pareto frontier drawn through them, the recommendation and every point in a sortable table.
public enum TuningReport {
    /// The page; `caption` says what was swept on which workload.
    public static func render(_ tuning: Tuning, title: String, caption: String) -> String {
        var body = ["<h1>\(SVG.escape(title))</h1>", "<p class=\"meta\">\(SVG.escape(caption))</p>"]
        body.append("<p><strong>\(SVG.escape(recommendation(tuning)))</strong></p>")
        let frontier = tuning.frontier
        var series = [
            Series(name: "frontier", points: frontier.compactMap { p in p.lagP99.map { (p.requestsPerSession, $0 / 1_000) } }),
            Series(name: "within limit", points: [], scatter: true),
            Series(name: "over the rate limit", points: [], scatter: true),
        ]
        for point in tuning.points {
            guard let p99 = point.lagP99 else { continue }  // nothing measured: no place on a lag axis (the table lists it)
            let slot = point.overLimit ? 2 : 1
            series[slot].points.append((point.requestsPerSession, p99 / 1_000))
            series[slot].labels.append("\(point.strategy): \(NumberText.short(point.requestsPerSession)) requests, p99 \(NumberText.short(p99 / 1_000)) s")
        }
        if let index = tuning.recommended, let p99 = tuning.points[index].lagP99 {
            let point = tuning.points[index]
            series.append(Series(name: "recommended", points: [(point.requestsPerSession, p99 / 1_000)], scatter: true, labels: ["recommended: \(point.strategy)"]))
        }
        if let target = tuning.targetP99, let low = tuning.points.map(\.requestsPerSession).min(), let high = tuning.points.map(\.requestsPerSession).max() {
            series.append(Series(name: "target p99", points: [(low, target / 1_000), (high, target / 1_000)], dashed: true))
        }
        var frame = ChartFrame()
        frame.legendOnRight = true
        let colors = ["frontier": Palette.color(0), "within limit": Palette.color(2), "over the rate limit": Palette.color(1), "recommended": Palette.color(4)]
        body.append(HTMLReport.section(
            "Cost against detection lag",
            "Each point is one strategy on the suite's workload, simulated: requests per session (cost) against p99 detection lag (model time). The line joins the Pareto frontier: no other point is both cheaper and faster.",
            LineChart.render(series, title: "Requests per session against p99 detection lag", xLabel: "requests per session", yLabel: "p99 detection lag (s)",
                             frame: frame, colors: series.map { colors[$0.name] ?? Palette.color(7) })
        ))
        body.append("<h2>All points</h2><p class=\"hint\">Click a column to sort.</p>" + table(tuning))
        return HTMLReport.page(title: title, body: body.joined(separator: "\n"))
    }

    /// One sentence: the recommended strategy and its figures, or why there is none.
    public static func recommendation(_ tuning: Tuning) -> String {
        guard let target = tuning.targetP99 else { return "No --target-p99 given: the frontier is shown, nothing is recommended." }
        guard let index = tuning.recommended else {
            return "No strategy swept has p99 detection lag within \(DurationText.format(Int64(target)))" + (tuning.limitPerSecond == nil ? "." : " under the rate limit.")
        }
        let point = tuning.points[index]
        return "Recommended: \(point.strategy), the cheapest with p99 detection lag within \(DurationText.format(Int64(target))): "
            + "\(NumberText.short(point.requestsPerSession)) requests per session, p99 lag \(NumberText.seconds(fromMillis: point.lagP99)), "
            + "\(NumberText.short(point.offeredPerSecond)) requests/s offered at the workload's arrival rate."
    }

    static func table(_ tuning: Tuning) -> String {
        let header = ["strategy", "requests / session", "polls / session", "lag p50 (s)", "lag p99 (s)", "429 share", "unfinished", "offered req/s", "marks"]
        let rows = tuning.points.enumerated().map { index, p in
            let marks = [p.onFrontier ? "frontier" : nil, p.overLimit ? "over limit" : nil, p.meetsTarget ? "meets target" : nil, index == tuning.recommended ? "recommended" : nil]
            return [p.strategy, NumberText.short(p.requestsPerSession), NumberText.short(p.pollsPerSession), NumberText.seconds(fromMillis: p.lagP50), NumberText.seconds(fromMillis: p.lagP99),
                    String(format: "%.1f%%", p.rateLimitedShare * 100), String(p.unfinished), NumberText.short(p.offeredPerSecond), marks.compactMap { $0 }.joined(separator: ", ")]
        }
        return HTMLReport.sortableTable(id: "points", header: header, rows: rows)
    }
}
