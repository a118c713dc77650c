import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import PollBenchCore

/// The <svg> documents in a page, and the coordinates of every series path in each.
enum SVGInspection {
    static func documents(_ html: String) -> [String] {
        var out: [String] = []
        var rest = Substring(html)
        while let start = rest.range(of: "<svg"), let end = rest[start.lowerBound...].range(of: "</svg>") {
            out.append(String(rest[start.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return out
    }

    static func isWellFormed(_ xml: String) -> Bool {
        XMLParser(data: Data(xml.utf8)).parse()
    }

    /// (x, y) of every point of every `class="series"` path.
    static func seriesPoints(_ svg: String) -> [(Double, Double)] {
        var points: [(Double, Double)] = []
        for piece in svg.components(separatedBy: "<path d=\"").dropFirst() where piece.contains("class=\"series\"") {
            let d = piece.prefix { $0 != "\"" }
            for token in d.split(separator: " ") {
                let pair = token.dropFirst().split(separator: ",").compactMap { Double($0) }
                if pair.count == 2 { points.append((pair[0], pair[1])) }
            }
        }
        return points
    }
}

@Suite("Charts and report.html")
struct ReportTests {
    @Test("scales map their domain onto their range, log scales by decades, y axes upside down")
    func scales() {
        let linear = Scale(.linear, domain: 0...10, range: 100...200)
        #expect(linear(0) == 100 && linear(5) == 150 && linear(10) == 200 && linear(20) == 200 && linear(-5) == 100)
        let log = Scale(.log10, domain: 1...1_000, range: 0...300)
        #expect(log(1) == 0 && abs(log(10) - 100) < 1e-9 && abs(log(100) - 200) < 1e-9 && log(1_000) == 300)
        let y = Scale(.linear, domain: 0...4, range: 10...50, inverted: true)
        #expect(y(0) == 50 && y(4) == 10 && y(1) == 40)
    }

    @Test("ticks fall on 1, 2, 5 × 10ⁿ and cover the domain", arguments: [(0.0, 10.0, [0.0, 2, 4, 6, 8, 10]), (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]), (0, 37, [0, 10, 20, 30]), (3, 480, [100, 200, 300, 400])])
    func ticks(low: Double, high: Double, expected: [Double]) {
        #expect(Ticks.linear(low...high) == expected)
        #expect(Ticks.niceCeiling(37) == 50 && Ticks.niceCeiling(480) == 500 && Ticks.niceCeiling(0.03) == 0.05)
    }

    @Test("SVG text and paths are escaped and compact")
    func svgPrimitives() {
        #expect(SVG.escape(#"a<b & "c">"#) == "a&lt;b &amp; &quot;c&quot;&gt;")
        #expect(SVG.path([(0, 1), (2.345, 3.001)]) == "M0,1 L2.35,3")
        #expect(SVGInspection.isWellFormed(SVG.element("g", [("title", "x & y")], SVG.text("<ok>", x: 1, y: 2))))
    }

    @Test("report.html: every chart is well-formed SVG, every series stays inside its plot, the table equals summary.json")
    func report() throws {
        let record = try SampleRecord.make(strategies: ["fixed:3s", "exp:1s,x2,max30s", "jitter:full,1s,30s"])
        let run = try VirtualRun(strategies: ["fixed:3s"], workload: Workload(sessions: 50, arrival: .constant(perSecond: 2), seed: 3))
        run.run()
        var lag = Histograms.micros()
        for micros in stride(from: 100_000, to: 3_000_000, by: 50_000) { _ = lag.record(UInt64(micros)) }
        let result = StrategyResult(strategy: .fixed(intervalMillis: 3_000), recorder: run.engine.recorders[0], timeline: run.engine.timeline(offsetSeconds: 0))
        let entries = HistogramLog.entries(result) + [HistogramLog.Entry(tag: "detection-lag", startSeconds: 0, lengthSeconds: 1, histogram: lag)]
        let series = record.strategies.map { ReportSeries(name: $0.name, entries: entries, seconds: result.recorder.seconds) }
        let html = HTMLReport.render(record, series: series)

        #expect(html.hasPrefix("<!doctype html>"))
        // Self-contained: no stylesheet, script or image from anywhere (the SVG namespace is the only URL).
        #expect(!html.contains("<link") && !html.contains("src=") && !html.contains("@import"))
        let documents = SVGInspection.documents(html)
        #expect(documents.count == 7)
        let frame = ChartFrame()
        for svg in documents {
            #expect(SVGInspection.isWellFormed(svg))
            for (x, y) in SVGInspection.seriesPoints(svg) {
                #expect(frame.plotX.contains(x) && frame.plotY.contains(y), "(\(x), \(y)) outside the plot")
            }
        }
        #expect(SVGInspection.seriesPoints(documents[0]).count > 10)
        // Cost against speed: one point per strategy. Over time: p50 and p99 in every interval that had status polls.
        #expect(documents[1].components(separatedBy: "<circle").count - 1 == record.strategies.count)
        let polledIntervals = result.recorder.encodedIntervals(.latency(.status, corrected: true)).count
        #expect(polledIntervals > 10 && SVGInspection.seriesPoints(documents[2]).count == 2 * record.strategies.count * polledIntervals)
        #expect(SVGInspection.seriesPoints(documents[3]).count > 0)

        // At a glance: the soonest and the cheapest strategy, named from the summary's own numbers.
        let soonest = try #require(record.strategies.min { ($0.detectionLag.p50 ?? .infinity) < ($1.detectionLag.p50 ?? .infinity) })
        let cheapest = try #require(record.strategies.min { $0.requestsPerSession < $1.requestsPerSession })
        #expect(html.contains("<strong>\(SVG.escape(soonest.name))</strong> noticed results soonest"))
        #expect(html.contains("<strong>\(SVG.escape(cheapest.name))</strong> asked least"))

        // The table: the same cells as summary.md, and those are the summary's own numbers.
        let (header, rows) = SummaryRows.table(record)
        for name in header { #expect(html.contains("<th>\(SVG.escape(name))</th>")) }
        for row in rows { #expect(html.contains("<tr>" + row.map { "<td>\(SVG.escape($0))</td>" }.joined() + "</tr>")) }
        for (index, summary) in record.strategies.enumerated() {
            let lagRow = try #require(rows.first { $0[0] == "detection lag p50" })
            #expect(lagRow[index + 1] == String(format: "%.2f s", try #require(summary.detectionLag.p50) / 1_000))
            let requests = try #require(rows.first { $0[0] == "requests" })
            #expect(requests[index + 1] == String(summary.requests))
        }
    }

    @Test("the comparison page draws both runs on one set of axes with the verdicts")
    func comparisonPage() throws {
        let base = try SampleRecord.make()
        var new = base
        new.strategies[0].detectionLag.p90 = try #require(new.strategies[0].detectionLag.p90) * 2
        var lag = Histograms.micros()
        _ = lag.record(1_000_000)
        let series = base.strategies.map { ReportSeries(name: $0.name, entries: [HistogramLog.Entry(tag: "detection-lag", startSeconds: 0, lengthSeconds: 1, histogram: lag)], seconds: []) }
        let html = HTMLReport.comparison(RunComparison(base: base, new: new, tolerance: 0.05), base: ("base", series), new: ("new", series))
        #expect(html.contains("base · fixed:3s") && html.contains("new · fixed:3s"))
        #expect(html.contains("<tr class=\"regressed\"><td>fixed:3s</td><td>detection lag p90</td>"))
        #expect(SVGInspection.documents(html).allSatisfy(SVGInspection.isWellFormed))
    }

    @Test("JUnit XML: a suite per strategy in order, counts that add up, failures escaped and explained")
    func junit() throws {
        let cases = [
            JUnitReport.Case(strategy: "fixed:3s", name: "p99(detection_lag) < 4s", failure: nil),
            JUnitReport.Case(strategy: "exp:1s,x2,max30s", name: "rate(errors) < 1%", failure: "measured 2% & more, limit: <1%"),
            JUnitReport.Case(strategy: "fixed:3s", name: "count(error) == 0", failure: nil),
        ]
        let xml = JUnitReport.render(cases, name: "pollbench.release")
        #expect(xml.contains(#"<testsuites name="pollbench.release" tests="3" failures="1">"#))
        #expect(xml.contains(#"<testsuite name="fixed:3s" tests="2" failures="0" errors="0">"#))
        #expect(try #require(xml.range(of: "<testsuite name=\"fixed:3s\"")).lowerBound < #require(xml.range(of: "<testsuite name=\"exp:1s")).lowerBound)
        #expect(xml.contains(#"<testcase classname="pollbench.release.exp:1s,x2,max30s" name="rate(errors) &lt; 1%">"#))
        #expect(xml.contains(#"<failure message="measured 2% &amp; more, limit: &lt;1%" type="threshold">"#))
        #expect(!xml.contains("& more"))
    }
}
