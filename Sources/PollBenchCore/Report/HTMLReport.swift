import Foundation
import Histogram
import PollBenchRules

/// What the reports draw for one strategy, beyond summary.json: its interval log (every metric's
/// histogram per interval, as its `.hlog` holds it) and its per-interval counts (timeseries.csv). Whole-run
/// histograms are the intervals added, so no percentile is ever computed from percentiles.
public struct ReportSeries: Sendable {
    public var name: String
    public var entries: [HistogramLog.Entry]
    public var seconds: [SecondBucket]
    /// Each tag's intervals added up.
    public let totals: [String: Histogram<UInt64>]

    public init(name: String, entries: [HistogramLog.Entry], seconds: [SecondBucket]) {
        self.name = name
        self.entries = entries
        self.seconds = seconds
        totals = HistogramLog.totals(entries)
    }

    public init(_ result: StrategyResult) {
        self.init(name: result.strategy.name, entries: HistogramLog.entries(result), seconds: result.recorder.seconds)
    }

    /// The metric's histogram over the whole run.
    public func histogram(_ metric: Metric) -> Histogram<UInt64> {
        totals[metric.tag] ?? metric.empty
    }

    /// The metric's median and 99th percentile in each interval (ms, or counts), by its start (seconds from the run's start).
    public func overTime(_ metric: Metric) -> [(seconds: Double, p50: Double, p99: Double)] {
        entries.filter { $0.tag == metric.tag }.compactMap { entry in
            let histogram = entry.histogram  // decoded one at a time
            guard histogram.totalCount > 0 else { return nil }
            return (entry.startSeconds, Double(histogram.valueAtPercentile(50)) / metric.divisor, Double(histogram.valueAtPercentile(99)) / metric.divisor)
        }
    }
}

/// report.html: one self-contained page (inline CSS and SVG, a few lines of script for sorting, no
/// network), readable in light and dark mode and printable.
public enum HTMLReport {
    /// The run's page.
    public static func render(_ record: RunRecord, series: [ReportSeries]) -> String {
        let run = record.run
        var body = ["<h1>pollbench: \(SVG.escape(run.name))</h1>", "<p class=\"meta\">" + SVG.escape(SummaryRows.caption(record))
            + " · pollbench \(SVG.escape(run.pollbenchVersion)) · started \(SVG.escape(run.startedAt)) · \(String(format: "%.1f", run.wallSeconds)) s wall</p>"]
        if run.partial { body.append("<p class=\"warn\">Partial results: the run was stopped early.</p>") }
        body.append(atAGlance(record))
        if !record.thresholds.isEmpty {
            let items = record.thresholds.map { result in
                "<li class=\"\(result.skipped != nil ? "skip" : result.passed ? "pass" : "fail")\">\(SVG.escape(result.verdict)) <code>\(SVG.escape(result.threshold))</code> [\(SVG.escape(result.strategy))]: measured \(SVG.escape(result.measured))</li>"
            }
            body.append("<h2>Thresholds</h2><ul class=\"thresholds\">" + items.joined() + "</ul>")
        }
        body.append("<p>" + SVG.escape(SummaryRows.groundTruthLine(record)) + "</p>")
        body.append(section("Detection lag by percentile", "How long after the service finished each strategy noticed, on HdrHistogram's percentile axis (model time).",
                            LineChart.render(lagCurves(series), title: "Detection lag percentiles", xLabel: "percentile", yLabel: "detection lag (s)", xKind: .log10, xTicks: Ticks.percentiles)))
        let webhookSeries = series.filter { s in record.strategies.contains { $0.name == s.name && $0.webhooks != nil } }
        if !webhookSeries.isEmpty {
            body.append(section("Webhook delivery lag by percentile", "From the status change at the service to the first delivery of it reaching pollbench (model time): the floor under every webhook strategy's detection lag.",
                                LineChart.render(lagCurves(webhookSeries, .webhookDeliveryLag), title: "Webhook delivery lag percentiles", xLabel: "percentile", yLabel: "delivery lag (s)", xKind: .log10, xTicks: Ticks.percentiles)))
        }
        body.append(section("Cost against speed", "Each strategy's requests per session against its p99 detection lag: down and to the left is better; the trade-off at a glance.",
                            costAgainstSpeed(record)))
        for (metric, title, what) in [(Metric.latency(.status, corrected: true), "Status latency over time", "status latency from the intended send time"),
                                      (Metric.scheduleSlip, "Schedule slip over time", "how late each request went out against its schedule")] {
            let lines = series.flatMap { s in
                let points = s.overTime(metric)
                return [Series(name: "\(s.name) p99", points: points.map { ($0.seconds, $0.p99) }), Series(name: "\(s.name) p50", points: points.map { ($0.seconds, $0.p50) }, dashed: true)]
            }
            body.append(section(title, "Per interval of the run (\(run.simulated ? "a model second" : "a wall second")), \(what): solid p99, dashed p50.",
                                LineChart.render(lines, title: title, xLabel: "seconds from the run's start", yLabel: "ms",
                                                 colors: series.indices.flatMap { [Palette.color($0), Palette.color($0)] })))
        }
        body.append(section("Requests per second", "Requests sent per interval of each strategy's run; dashed: 429 responses.",
                            LineChart.render(series.flatMap(rateSeries), title: "Requests per second", xLabel: "second of the run", yLabel: "requests / s",
                                             colors: series.indices.flatMap { [Palette.color($0), Palette.color($0)] })))
        body.append(section("Polls per session", "Share of sessions by the number of status polls they needed.",
                            LineChart.render(series.map { pollShare($0) }, title: "Polls per session", xLabel: "polls", yLabel: "sessions (%)")))
        let seen = SessionOutcome.allCases.filter { outcome in record.strategies.contains { ($0.outcomes[outcome.rawValue] ?? 0) > 0 } }
        body.append(section("Outcomes", "How each strategy's sessions ended.", StackedBarChart.render(record.strategies.map { summary in
            (summary.name, seen.map { ($0.rawValue, Double(summary.outcomes[$0.rawValue] ?? 0)) })
        }, title: "Outcomes per strategy")))
        if let harness = record.harness { body.append(harnessHealth(harness)) }
        body.append("<h2>Summary</h2><p class=\"hint\">Click a column to sort.</p>" + summaryTable(record))
        if let (header, rows) = SummaryRows.transportTable(record) {
            body.append("<h2>Transfer phases</h2><p class=\"hint\">Wall time, from the transport's own timing; dns, connect and tls over the transfers that opened a connection.</p>"
                + sortableTable(id: "transport", header: header, rows: rows))
        }
        return page(title: "pollbench: \(run.name)", body: body.joined(separator: "\n"))
    }

    /// The comparison page: both runs' detection-lag curves on the same axes, and the verdict table.
    public static func comparison(_ comparison: RunComparison, base: (name: String, series: [ReportSeries]), new: (name: String, series: [ReportSeries])) -> String {
        let curves = lagCurves(base.series).map { Series(name: "base · \($0.name)", points: $0.points, dashed: true) }
            + lagCurves(new.series).map { Series(name: "new · \($0.name)", points: $0.points) }
        let colors = base.series.indices.map(Palette.color) + new.series.indices.map(Palette.color)
        let rows = comparison.rows.map { row in
            "<tr class=\"\(row.verdict == .noData ? "nodata" : row.verdict.rawValue)\"><td>\(SVG.escape(row.strategy))</td><td>\(SVG.escape(row.metric))</td><td>\(row.base.map(NumberText.short) ?? NumberText.noData)</td><td>\(row.new.map(NumberText.short) ?? NumberText.noData)</td><td>\(row.change.map { String(format: "%+.1f%%", $0 * 100) } ?? "–")</td><td>\(row.verdict.rawValue)</td></tr>"
        }
        let body = [
            "<h1>pollbench: \(SVG.escape(new.name)) vs \(SVG.escape(base.name))</h1>",
            section("Detection lag by percentile", "Dashed: the base run; solid: the new one.",
                    LineChart.render(curves, title: "Detection lag percentiles, both runs", xLabel: "percentile", yLabel: "detection lag (s)", xKind: .log10, xTicks: Ticks.percentiles, colors: colors)),
            "<h2>Verdicts</h2><table class=\"sortable\"><thead><tr><th>strategy</th><th>metric</th><th>base</th><th>new</th><th>change</th><th>verdict</th></tr></thead><tbody>"
                + rows.joined() + "</tbody></table>",
        ]
        return page(title: "pollbench: \(new.name) vs \(base.name)", body: body.joined(separator: "\n"))
    }

    /// One point per strategy: requests per session against p99 detection lag (s).
    static func costAgainstSpeed(_ record: RunRecord) -> String {
        // A strategy with no detection lag (no session saw a terminal status) has no point to draw.
        let points = record.strategies.compactMap { s in
            s.detectionLag.p99.map { p99 in
                Series(name: s.name, points: [(s.requestsPerSession, p99 / 1_000)], scatter: true,
                       labels: ["\(s.name): \(NumberText.short(s.requestsPerSession)) requests per session, p99 lag \(NumberText.short(p99 / 1_000)) s"])
            }
        }
        return LineChart.render(points, title: "Cost against speed", xLabel: "requests per session", yLabel: "p99 detection lag (s)")
    }

    /// One curve per strategy: x = 1/(1−p) (capped at 99.99 %), y = the metric (detection lag unless named) in seconds.
    static func lagCurves(_ series: [ReportSeries], _ metric: Metric = .detectionLag) -> [Series] {
        series.map { s in
            var points: [(x: Double, y: Double)] = []
            let lag = s.histogram(metric)
            if lag.totalCount > 0 {
                for step in lag.percentiles(ticksPerHalfDistance: 5) {
                    let p = step.percentileLevelIteratedTo / 100
                    points.append((min(10_000, 1 / max(1e-4, 1 - p)), Double(step.value) / 1e6))
                }
            }
            return Series(name: s.name, points: points)
        }
    }

    /// The harness's own load per wall second: its CPU against the cores it may use, its busiest loop
    /// thread against one core, and the loops' lag; the warning above the chart when it limited the run.
    static func harnessHealth(_ harness: HarnessHealth) -> String {
        func percent(_ micros: KeyPath<HarnessSecond, Int64>, of cores: Int) -> [(Double, Double)] {
            harness.seconds.map { (Double($0.second), Double($0[keyPath: micros]) / 1e4 / Double(cores)) }
        }
        let lines = [
            Series(name: "process CPU (% of \(harness.coresPhrase))", points: percent(\.processCPUMicros, of: harness.cores)),
            Series(name: "busiest loop thread (% of a core)", points: percent(\.busiestLoopCPUMicros, of: 1), dashed: true),
            Series(name: "loop lag max (ms)", points: harness.seconds.map { (Double($0.second), Double($0.loopLagMaxMicros) / 1e3) }),
            Series(name: "busy turn max (ms)", points: harness.seconds.compactMap { s in s.busyTurnMaxMicros.map { (Double(s.second), Double($0) / 1e3) } }, dashed: true),
            Series(name: "connection wait max (ms)", points: harness.seconds.map { (Double($0.second), Double($0.connectionWaitMaxMicros) / 1e3) }, dashed: true),
        ]
        let warning = harness.warning.map { "<p class=\"warn\">\(SVG.escape($0))</p>" } ?? ""
        return warning + section("Harness health", "pollbench's own load per wall second: when its CPU nears 100 %, or its loops run late or stay long away from their sockets (a busy turn: answers wait unread), or its requests wait for connections, the lags, slips and latencies above include its own queues.",
                                 LineChart.render(lines, title: "Harness health", xLabel: "seconds from the run's start", yLabel: "% or ms"))
    }

    static func rateSeries(_ s: ReportSeries) -> [Series] {
        [Series(name: s.name, points: s.seconds.enumerated().map { (Double($0.offset), Double($0.element.requests)) }),
         Series(name: "\(s.name) 429s", points: s.seconds.enumerated().map { (Double($0.offset), Double($0.element.rateLimited)) }, dashed: true)]
    }

    static func pollShare(_ s: ReportSeries) -> Series {
        let polls = s.histogram(.pollsPerSession)
        let total = Double(max(1, polls.totalCount))
        return Series(name: s.name, points: polls.recordedValues().map { (Double($0.value), Double($0.count) * 100 / total) })
    }

    /// Which strategy noticed sooner, and which asked less: the page's first answer.
    static func atAGlance(_ record: RunRecord) -> String {
        let ran = record.strategies.filter { $0.sessions > 0 }
        guard let soonest = quickest(ran),
              let cheapest = ran.min(by: { $0.requestsPerSession < $1.requestsPerSession })
        else { return "" }
        let webhooks = ran.contains { $0.webhooks != nil }
        let rows = ran.map { s in
            "<tr><td>\(SVG.escape(s.name))</td><td\(s.name == soonest.name ? " class=\"best\"" : "")>\(NumberText.seconds(fromMillis: s.detectionLag.p50))</td>"
                + "<td>\(NumberText.seconds(fromMillis: s.detectionLag.p99))</td>"
                + "<td\(s.name == cheapest.name ? " class=\"best\"" : "")>\(String(format: "%.1f", s.requestsPerSession))</td>"
                + (webhooks ? webhookCells(s) : "") + "</tr>"
        }
        let header = "<th>strategy</th><th>lag p50</th><th>lag p99</th><th>requests / session</th>"
            + (webhooks ? "<th>seen first by webhook</th><th>rescued by a poll</th><th>delivery lag p50</th>" : "")
        return "<h2>At a glance</h2><p><strong>\(SVG.escape(soonest.name))</strong> noticed results soonest (median detection lag \(NumberText.seconds(fromMillis: soonest.detectionLag.p50))); "
            + "<strong>\(SVG.escape(cheapest.name))</strong> asked least (\(String(format: "%.1f", cheapest.requestsPerSession)) requests per session).</p>"
            + webhookVerdict(ran)
            + "<table class=\"glance\"><thead><tr>\(header)</tr></thead><tbody>" + rows.joined() + "</tbody></table>"
    }

    /// The strategy with the lowest median detection lag, of those that measured one.
    static func quickest(_ strategies: [StrategySummary]) -> StrategySummary? {
        strategies.compactMap { s in s.detectionLag.p50.map { (s, $0) } }.min { $0.1 < $1.1 }?.0
    }

    /// A webhook strategy's share of ends seen first by webhook, its rescues and its delivery lag (dashes for a poll strategy).
    static func webhookCells(_ s: StrategySummary) -> String {
        guard let webhooks = s.webhooks else { return "<td>–</td><td>–</td><td>–</td>" }
        let seen = webhooks.counts.noticedFirst.values.reduce(0, +)
        let first = webhooks.counts.noticedFirst[SessionMachine.Channel.webhook.rawValue] ?? 0
        return "<td>\(first) of \(seen)</td><td>\(webhooks.counts.rescuedByPoll)</td><td>\(NumberText.seconds(fromMillis: webhooks.deliveryLag.p50))</td>"
    }

    /// Webhooks against polling, in one sentence: the quickest of each, and what each cost.
    static func webhookVerdict(_ ran: [StrategySummary]) -> String {
        let (hooked, polled) = (ran.filter { $0.webhooks != nil }, ran.filter { $0.webhooks == nil })
        guard let hook = quickest(hooked), let poll = quickest(polled) else { return "" }
        return "<p>Webhooks: <strong>\(SVG.escape(hook.name))</strong> noticed in \(NumberText.seconds(fromMillis: hook.detectionLag.p50)) (median; webhook delivery \(NumberText.seconds(fromMillis: hook.webhooks?.deliveryLag.p50))) "
            + "against \(NumberText.seconds(fromMillis: poll.detectionLag.p50)) for the quickest poll strategy, <strong>\(SVG.escape(poll.name))</strong>, "
            + "at \(String(format: "%.1f", hook.requestsPerSession)) against \(String(format: "%.1f", poll.requestsPerSession)) requests per session.</p>"
    }

    static func summaryTable(_ record: RunRecord) -> String {
        let (header, rows) = SummaryRows.table(record)
        return sortableTable(id: "summary", header: header, rows: rows)
    }

    /// A table whose columns sort on a click (the page's script).
    static func sortableTable(id: String, header: [String], rows: [[String]]) -> String {
        let head = "<thead><tr>" + header.map { "<th>\(SVG.escape($0))</th>" }.joined() + "</tr></thead>"
        let body = rows.map { "<tr>" + $0.map { "<td>\(SVG.escape($0))</td>" }.joined() + "</tr>" }.joined()
        return "<table class=\"sortable\" id=\"\(id)\">\(head)<tbody>\(body)</tbody></table>"
    }

    static func section(_ title: String, _ caption: String, _ svg: String) -> String {
        "<h2>\(SVG.escape(title))</h2><figure>\(svg)<figcaption>\(SVG.escape(caption))</figcaption></figure>"
    }

    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(SVG.escape(title))</title>
        <style>
        :root { color-scheme: light dark; --fg: #1d2330; --bg: #ffffff; --muted: #5b6475; --grid: #e3e6ec; --pass: #17794a; --fail: #c62828; }
        @media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --bg: #14171d; --muted: #9aa3b5; --grid: #2c323d; --pass: #4cc38a; --fail: #ff6b6b; } }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); max-width: 1000px; margin: 2rem auto; padding: 0 1rem; }
        h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } .meta, .hint, figcaption { color: var(--muted); }
        figure { margin: 0; } svg { width: 100%; height: auto; } svg .label, svg .legend { fill: var(--fg); font-size: 11px; }
        svg .grid { stroke: var(--grid); } svg .axis { stroke: var(--muted); fill: none; } svg .series { fill: none; stroke-width: 2; }
        table { border-collapse: collapse; width: 100%; } th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--grid); text-align: right; }
        th:first-child, td:first-child { text-align: left; } th { cursor: pointer; } .pass, .improved { color: var(--pass); } .fail, .regressed, .warn { color: var(--fail); }
        ul.thresholds { list-style: none; padding: 0; } td.best { font-weight: 600; color: var(--pass); }
        @media print { body { margin: 0; max-width: none; } .hint { display: none; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
        </style></head><body>
        \(body)
        <script>
        document.querySelectorAll("table.sortable").forEach(function (table) {
          table.querySelectorAll("th").forEach(function (th, column) {
            th.addEventListener("click", function () {
              var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
              var up = th.getAttribute("data-order") !== "up";
              th.setAttribute("data-order", up ? "up" : "down");
              rows.sort(function (a, b) {
                var x = a.cells[column].textContent, y = b.cells[column].textContent, nx = parseFloat(x), ny = parseFloat(y);
                var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
                return up ? order : -order;
              });
              rows.forEach(function (row) { body.appendChild(row); });
            });
          });
        });
        </script>
        </body></html>
        """
    }
}
