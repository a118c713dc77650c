import Foundation
import PollBenchCore
import Testing

extension EndToEnd {
    @Suite("Suites, thresholds, compare and baselines from the command line", .serialized)
    struct SuiteCLITests {
        static let suites = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Benchmarks/suites")

        @Test("the smoke suite passes end to end; compare and baselines work on its results")
        func smokeCompareBaseline() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let smoke = Self.suites.appendingPathComponent("smoke.yaml").path
            let run = try CLI.run(["run", "--suite", smoke, "--output", output.path])
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            #expect(run.stdout.contains("✓ p99(detection_lag) < 10s [fixed:3s]: measured"))
            #expect(!run.stdout.contains("FAILED"))

            let directory = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-smoke") })
            let runPath = output.appendingPathComponent(directory).path
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: URL(fileURLWithPath: runPath + "/summary.json")))
            #expect(!record.thresholds.isEmpty && record.thresholdsPassed)

            let same = try CLI.run(["compare", runPath, runPath, "--markdown", output.appendingPathComponent("pr.md").path])
            #expect(same.status == 0)
            #expect(same.stdout.contains("0 regressed"))
            #expect(same.stdout.contains("tolerance 5%"))  // smoke sets none: the default
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("pr.md").path))

            var slower = record
            slower.strategies[0].detectionLag.p90 = try #require(slower.strategies[0].detectionLag.p90) * 2
            let slowerPath = output.appendingPathComponent("slower.json").path
            try JSONEncoder().encode(slower).write(to: URL(fileURLWithPath: slowerPath))
            let regressed = try CLI.run(["compare", runPath, slowerPath])
            #expect(regressed.status == 1)
            #expect(regressed.stdout.contains("| fixed:3s | detection lag p90 |") && regressed.stdout.contains("❌ regressed"))

            let saved = try CLI.run(["baseline", "save", "v1", runPath, "--output", output.path])
            #expect(saved.status == 0, "\(saved.stderr)")
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("baselines/v1/summary.json").path))
            let listed = try CLI.run(["baseline", "list", "--output", output.path])
            #expect(listed.stdout.hasPrefix("v1  "))
            let byName = try CLI.run(["compare", "v1", runPath, "--output", output.path])
            #expect(byName.status == 0, "\(byName.stderr)")
        }

        @Test("a tightened threshold fails with its measured value and exit 1")
        func failingThreshold() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let suite = output.appendingPathComponent("tight.yaml")
            try """
            name: tight
            description: a threshold nobody meets
            timeScale: 200
            workload: {sessions: 10, arrival: "constant:20", providers: {smartid: 1}}
            strategies: [fixed:3s]
            thresholds:
              - p50(detection_lag) < 1ms
              - count(error) == 0
            """.write(to: suite, atomically: true, encoding: .utf8)
            let run = try CLI.run(["run", "--suite", suite.path, "--output", output.path])
            #expect(run.status == 1)
            #expect(run.stdout.contains("✗ FAILED p50(detection_lag) < 1ms [fixed:3s]: measured "))
            #expect(run.stdout.contains("✓ count(error) == 0 [fixed:3s]: measured 0"))
        }

        @Test("a broken suite: exit 2 and one line with file and line", arguments: [
            ("workload:\n  sessions: 5\n  sesions: 4\n", ":3: unknown key 'sesions'"),
            ("strategies: [fixed:3]\n", ":1: strategy 'fixed:3': bad duration"),
        ])
        func brokenSuite(text: String, fragment: String) throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let suite = output.appendingPathComponent("broken.yaml")
            try text.write(to: suite, atomically: true, encoding: .utf8)
            let run = try CLI.run(["run", "--suite", suite.path, "--output", output.path])
            #expect(run.status == 2)
            #expect(run.stderr.split(separator: "\n").count == 1)
            #expect(run.stderr.hasPrefix("error: \(suite.path)") && run.stderr.contains(fragment), "\(run.stderr)")
        }

        @Test("unknown suites and unreadable comparisons are usage errors")
        func usage() throws {
            let missing = try CLI.run(["run", "--suite", "no-such-suite"])
            #expect(missing.status == 2 && missing.stderr.contains("no suite named 'no-such-suite'"))
            let compare = try CLI.run(["compare", "/nonexistent/a", "/nonexistent/b"])
            #expect(compare.status == 2 && compare.stderr.contains("neither a run directory"))
        }
    }
}

extension EndToEnd {
    @Suite("Runs against a misbehaving sandbox")
    struct FaultRunTests {
        @Test("5 % 5xx, 1 % closed connections, 1 % malformed JSON, latency spikes and an outage: the run completes and counts each")
        func faults() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let suite = output.appendingPathComponent("faults.yaml")
            try """
            name: faults
            description: every fault at once
            timeScale: 100
            createRetries: 5
            workload: {sessions: 120, arrival: "constant:10"}
            strategies: [fixed:2s, "exp:500ms,x2,max10s"]
            sandbox:
              faults:
                serverErrorRate: 5%
                closeRate: 1%
                malformedRate: 1%
                latency: {rate: 5%, median: 5ms, p95: 50ms}
                outages: [{provider: bankidse, from: 0s, to: 30s}]  # covers every arrival, however late the client starts
            """.write(to: suite, atomically: true, encoding: .utf8)
            let run = try CLI.run(["run", "--suite", suite.path, "--output", output.path])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("ground truth: client and sandbox counts agree; faults injected:"))

            let directory = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-faults") })
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: output.appendingPathComponent("\(directory)/summary.json")))
            #expect(record.groundTruthDifferences.isEmpty, "\(record.groundTruthDifferences)")
            for kind in ["server-error", "close", "malformed", "latency", "outage"] {
                #expect(record.sandboxFaults[kind, default: 0] > 0, "\(kind)")
            }
            for strategy in record.strategies {
                #expect(strategy.sessions == 120 && strategy.outcomes.values.reduce(0, +) == 120)
            }
            let seen = record.strategies.reduce(0) { $0 + $1.transportErrors.values.reduce(0, +) + $1.malformedBodies }
            #expect(seen > 0)
            #expect(record.strategies.contains { ($0.apiErrorCodes["400005"] ?? 0) > 0 })
        }
    }
}

extension EndToEnd {
    @Suite("pollbench simulate")
    struct SimulateCLITests {
        @Test("the smoke suite in virtual time: same outputs, marked simulated; bad options are usage errors")
        func simulate() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let smoke = SuiteCLITests.suites.appendingPathComponent("smoke.yaml").path
            let run = try CLI.run(["simulate", "--suite", smoke, "--round-trip", "2ms", "--output", output.path, "--name", "sim"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("simulated") && run.stdout.contains("✓ count(error) == 0"))
            let directory = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-sim") })
            for file in ["summary.json", "summary.md", "report.html", "timeseries.csv", "fixed-3s.hlog"] {
                #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("\(directory)/\(file)").path), "\(file)")
            }
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: output.appendingPathComponent("\(directory)/summary.json")))
            #expect(record.run.simulated && record.groundTruthDifferences.isEmpty)

            let fitted = try CLI.run(["simulate", "--suite", smoke, "--round-trip-from", output.appendingPathComponent(directory).path, "--output", output.path])
            #expect(fitted.status == 0, "\(fitted.stderr)")
            let bad = try CLI.run(["simulate", "--round-trip", "soon"])
            #expect(bad.status == 2 && bad.stderr.contains("--round-trip"))
            let remote = try CLI.run(["simulate", "--target", "http://127.0.0.1:9/api"], environment: ["POLLBENCH_CLIENT_ID": "X", "POLLBENCH_CLIENT_SECRET": "y"])
            #expect(remote.status == 2 && remote.stderr.contains("drop --target"))
        }
    }
}
