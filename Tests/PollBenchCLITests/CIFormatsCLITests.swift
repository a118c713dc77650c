import Foundation
import PollBenchCore
import Testing

extension EndToEnd {
    /// What CI systems read: JUnit XML and GitHub's step summary, from run (here its simulation), merge and compare.
    @Suite("JUnit XML and the GitHub step summary")
    struct CIFormatsCLITests {
        /// `junitparser`'s reading of a file: suites, then per suite its cases and failures, and every failure message.
        static func parse(_ path: String) throws -> String {
            let script = """
                import sys, junitparser
                xml = junitparser.JUnitXml.fromfile(sys.argv[1])
                for suite in xml:
                    cases = list(suite)
                    failed = [c for c in cases if c.result and isinstance(c.result[0], junitparser.Failure)]
                    print(f"{suite.name}|{len(cases)}|{len(failed)}")
                    for c in failed: print(f"  {c.name}: {c.result[0].message}")
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script, path]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "junitparser could not read \(path)")
            return text
        }

        @Test("a threshold per test case, a strategy per test suite, failures with measured against limit; the step summary appended")
        func junitAndStepSummary() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let suite = output.appendingPathComponent("gate.yaml")
            try """
                name: gate
                description: two thresholds for all, one that fails for one strategy
                workload: {sessions: 60, arrival: constant:3}
                strategies: [fixed:3s, "exp:1s,x2,max30s"]
                thresholds:
                  - count(error) == 0
                  - p99(detection_lag) < 60s
                  - {strategy: "exp:1s,x2,max30s", check: p99(detection_lag) < 1s}
                """.write(to: suite, atomically: true, encoding: .utf8)
            let summary = output.appendingPathComponent("step-summary.md")
            try "existing line\n".write(to: summary, atomically: true, encoding: .utf8)
            let junit = output.appendingPathComponent("gate.xml").path
            let result = try CLI.run(
                ["simulate", "--suite", suite.path, "--fast", "--name", "gate", "--junit", junit, "--output", output.path], environment: ["GITHUB_STEP_SUMMARY": summary.path]
            )
            #expect(result.status == 1)  // the exp threshold fails
            let parsed = try Self.parse(junit)
            let lines = parsed.split(separator: "\n").map(String.init)
            #expect(lines.first == "fixed:3s|2|0")
            #expect(lines.contains("exp:1s,x2,max30s|3|1"))
            #expect(lines.contains { $0.hasPrefix("  p99(detection_lag) < 1s: measured ") && $0.hasSuffix(", limit: p99(detection_lag) < 1s") }, "\(parsed)")
            let appended = try String(contentsOf: summary, encoding: .utf8)
            #expect(appended.hasPrefix("existing line\n# pollbench run: gate") && appended.contains("| detection lag p50 |"))

            // compare: a case per strategy and metric, each regression a failure.
            let base = output.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-gate") })).path
            _ = try CLI.run(["simulate", "--suite", suite.path, "--fast", "--seed", "2", "--name", "seed2", "--output", output.path])
            let other = output.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-seed2") })).path
            let compareXML = output.appendingPathComponent("compare.xml").path
            let compare = try CLI.run(["compare", base, other, "--tolerance", "0%", "--junit", compareXML])
            #expect(compare.status == 1, "\(compare.stdout)")
            let suites = try Self.parse(compareXML).split(separator: "\n").filter { !$0.hasPrefix(" ") }.map { $0.split(separator: "|").map(String.init) }
            #expect(suites.map { $0[0] } == ["fixed:3s", "exp:1s,x2,max30s"])
            let rows = compare.stdout.split(separator: "\n").filter { $0.hasPrefix("| fixed:3s |") || $0.hasPrefix("| exp:") }
            #expect(suites.map { Int($0[1]) ?? -1 }.reduce(0, +) == rows.count)
            #expect(suites.map { Int($0[2]) ?? -1 }.reduce(0, +) == rows.filter { $0.contains("regressed") }.count && rows.contains { $0.contains("regressed") })
        }
    }
}
