/// JUnit XML, as CI systems read test results: one test suite per strategy, one test case per check
/// (a threshold of a run, or a metric of a comparison); a failed check carries what was measured
/// against what was allowed.
public enum JUnitReport {
    /// One check's result.
    public struct Case: Sendable, Equatable {
        /// The strategy it belongs to (the test suite).
        public var strategy: String
        /// What was checked, e.g. `p99(detection_lag) < 4s`.
        public var name: String
        /// Nil when it passed; else why it failed.
        public var failure: String?
        /// Why it was not checked, when it was not.
        public var skipped: String?

        /// Creates a case.
        public init(strategy: String, name: String, failure: String?, skipped: String? = nil) {
            self.strategy = strategy
            self.name = name
            self.failure = failure
            self.skipped = skipped
        }
    }

    /// A run's (or merged run's) thresholds: each one a case, failures with the measured value.
    public static func cases(_ record: RunRecord) -> [Case] {
        record.thresholds.map { result in
            Case(strategy: result.strategy, name: result.threshold, failure: result.passed ? nil : "measured \(result.measured), limit: \(result.threshold)", skipped: result.skipped)
        }
    }

    /// A comparison's verdicts: each strategy and metric a case, a regression a failure.
    public static func cases(_ comparison: RunComparison) -> [Case] {
        comparison.rows.map { row in
            let change = row.change.map { String(format: "%+.1f%%", $0 * 100) } ?? "new"
            let failure = row.verdict == .regressed
                ? "regressed: \(row.base.map(NumberText.short) ?? NumberText.noData) → \(row.new.map(NumberText.short) ?? NumberText.noData) (\(change)), tolerance \(NumberText.short(comparison.tolerance * 100))%" : nil
            return Case(strategy: row.strategy, name: row.metric, failure: failure, skipped: row.verdict == .noData ? "no data in one of the runs" : nil)
        }
    }

    /// The document: `<testsuites name=NAME>`, a `<testsuite>` per strategy in first-seen order.
    public static func render(_ cases: [Case], name: String) -> String {
        var strategies: [String] = []
        for item in cases where !strategies.contains(item.strategy) { strategies.append(item.strategy) }
        let failures = cases.filter { $0.failure != nil }.count
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<testsuites name="\#(escape(name))" tests="\#(cases.count)" failures="\#(failures)">"#,
        ]
        for strategy in strategies {
            let mine = cases.filter { $0.strategy == strategy }
            lines.append(#"  <testsuite name="\#(escape(strategy))" tests="\#(mine.count)" failures="\#(mine.filter { $0.failure != nil }.count)" errors="0">"#)
            for item in mine {
                let open = #"    <testcase classname="\#(escape(name)).\#(escape(strategy))" name="\#(escape(item.name))""#
                if let failure = item.failure {
                    lines.append(open + ">")
                    lines.append(#"      <failure message="\#(escape(failure))" type="threshold">\#(escape(failure))</failure>"#)
                    lines.append("    </testcase>")
                } else if let skipped = item.skipped {
                    lines.append(open + ">")
                    lines.append(#"      <skipped message="\#(escape(skipped))"/>"#)
                    lines.append("    </testcase>")
                } else {
                    lines.append(open + "/>")
                }
            }
            lines.append("  </testsuite>")
        }
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Text made safe for an XML attribute or element (XML escapes as SVG does).
    static func escape(_ text: String) -> String { SVG.escape(text) }
}
