import Foundation
import PollBenchCore
import Testing

extension EndToEnd {
    @Suite("pollbench tune and plan, end to end", .serialized)
    struct PlanningCLITests {
        /// Bad input: exit 2 and one `error:` line that names `fragment`.
        static func expectUsageError(_ arguments: [String], _ fragment: String, output: URL) throws {
            let result = try CLI.run(arguments + ["--output", output.path])
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(fragment) && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }

        @Test("tune: the optimal schedule for a 4 s p99 joins the sweep and is the cheapest within it; the frontier, the engine's agreement and the files")
        func tune() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let result = try CLI.run(["tune", "--sweep", "fixed:interval=0.5s..10s/20", "--target-p99", "4s", "--rate-limit", "40/s", "--output", output.path])
            #expect(result.status == 0, "\(result.stderr)")
            // Planned for the target less the round trip's p99 (1 ms wall, 50 ms model at the default scale).
            #expect(result.stdout.contains("Recommended: optimal:p99=3950ms"), "\(result.stdout)")
            #expect(result.stdout.contains("of 21 points)") && result.stdout.contains("fixed:3.5s"))
            #expect(result.stdout.contains("fixed:3s") && result.stdout.contains("over the limit"))
            let check = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("engine check") })
            let match = try #require(String(check).firstMatch(of: /p99 lag ([0-9.]+)s \(fast ([0-9.]+)s\), ([0-9.]+) requests per session \(fast ([0-9.]+)\)/))
            let (lag, fastLag, requests, fastRequests) = (Double(match.1) ?? 0, Double(match.2) ?? 0, Double(match.3) ?? 0, Double(match.4) ?? 0)
            #expect(lag > 3 && lag < 4 && abs(lag - fastLag) <= 0.05 * lag && abs(requests - fastRequests) <= 0.05 * requests, "\(check)")
            let directory = try #require(try FileManager.default.contentsOfDirectory(at: output, includingPropertiesForKeys: nil).first)
            let csv = try String(contentsOf: directory.appendingPathComponent("tune.csv"), encoding: .utf8).split(separator: "\n")
            #expect(csv.count == 22 && csv.filter { $0.hasSuffix(",true") }.count == 1)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("tune.json"))) as? [String: Any]
            #expect(json?["schema"] as? String == "pollbench.tune/1" && json?["recommended"] as? String == "optimal:p99=3950ms")
            let page = try String(contentsOf: directory.appendingPathComponent("tune.html"), encoding: .utf8)
            #expect(page.contains("<svg") && page.contains("Recommended: optimal:p99=3950ms"))
        }

        @Test("calibrate: a run's users fitted into users.yaml, which tune --explain and simulate --users plan optimal schedules for; an existing file is kept")
        func calibrate() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let runs = output.appendingPathComponent("runs")
            #expect(try CLI.run(["simulate", "--fast", "--strategy", "fixed:3s", "--sessions", "600", "--output", runs.path]).status == 0)
            let run = try #require(try FileManager.default.contentsOfDirectory(at: runs, includingPropertiesForKeys: nil).first)
            let users = output.appendingPathComponent("users.yaml")
            let fitted = try CLI.run(["calibrate", run.path, "--output", users.path])
            #expect(fitted.status == 0, "\(fitted.stderr)")
            #expect(fitted.stdout.contains("median fit") && fitted.stdout.contains("users: \(users.path)"), "\(fitted.stdout)")
            let model = try UserModelFile.parse(try String(contentsOf: users, encoding: .utf8), file: users.path)
            #expect(Set(model.keys) == ["bankidse", "frejaid", "smartid", "evrotrust", "mitid"] && model.values.allSatisfy { $0.outcomeTime != nil })
            let again = try CLI.run(["calibrate", run.path, "--output", users.path])
            #expect(again.status == 2 && again.stderr.contains("exists; give --force"), "\(again.stderr)")
            #expect(try CLI.run(["calibrate", output.path, "--output", output.appendingPathComponent("other.yaml").path]).status == 2)

            let explained = try CLI.run(["tune", "--explain", "optimal:p99=3s", "--users", users.path])
            #expect(explained.status == 0, "\(explained.stderr)")
            #expect(explained.stdout.contains("bankidse") && explained.stdout.contains("first poll at") && explained.stdout.contains("fast simulation, 300 sessions"), "\(explained.stdout)")
            let planned = try CLI.run(["simulate", "--fast", "--strategy", "optimal:p99=3s", "--users", users.path, "--sessions", "100", "--output", output.appendingPathComponent("optimal").path])
            #expect(planned.status == 0, "\(planned.stderr)")
            let summary = try #require(try FileManager.default.contentsOfDirectory(at: output.appendingPathComponent("optimal"), includingPropertiesForKeys: nil).first)
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: summary.appendingPathComponent("summary.json")))
            #expect(record.strategies.first?.optimalPlan?.providers.count == 5)
        }

        @Test("tune: no setting within the target is exit 1; bad sweeps and conflicting flags are one-line usage errors")
        func tuneFailures() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let none = try CLI.run(["tune", "--sweep", "fixed:interval=5s..10s/3", "--target-p99", "1s", "--no-check", "--output", output.path])
            #expect(none.status == 1 && none.stdout.contains("No strategy swept has p99 detection lag within 1s"))
            for (arguments, fragment) in [(["tune", "--sweep", "fixed:every=1s"], "PARAMETER one of interval"), (["tune", "--strategy", "fixed:3s"], "give --sweep"),
                                          (["tune", "--target-p99", "soon"], "--target-p99"), (["tune", "--rate-limit", "lots"], "--rate-limit")] {
                try Self.expectUsageError(arguments, fragment, output: output)
            }
        }

        @Test("plan: how many verifications per minute a 40/s limit allows, formulas and simulation side by side")
        func plan() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let result = try CLI.run(["plan", "--rate", "120/min", "--rate-limit", "40/s", "--strategy", "fixed:3s", "--output", output.path])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("concurrent sessions (Little's law)") && result.stdout.contains("fits: "), "\(result.stdout)")
            let directory = try #require(try FileManager.default.contentsOfDirectory(at: output, includingPropertiesForKeys: nil).first)
            let file = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: directory.appendingPathComponent("plan.json")))
            #expect(file.fits && file.arrivalPerSecond == 2 && file.rateLimitPerSecond == 40)
            #expect(abs(file.analytic.concurrentSessions - file.simulated.concurrentSessions) <= 0.05 * file.simulated.concurrentSessions)
            #expect(abs(file.analytic.requestsPerSecond - file.simulated.requestsPerSecond) <= 0.05 * file.simulated.requestsPerSecond)
            let largest = try #require(file.simulated.largestArrivalPerSecond)
            #expect(largest > 2 && largest < 3.5)
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("plan.md").path))
        }

        @Test("plan: a rate the limit cannot take is exit 1; missing or bad inputs are one-line usage errors")
        func planFailures() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let over = try CLI.run(["plan", "--daily", "500000", "--rate-limit", "40/s", "--output", output.path])
            #expect(over.status == 1 && over.stdout.contains("does not fit"), "\(over.stdout)")
            for (arguments, fragment) in [(["plan", "--rate", "2/s"], "--rate-limit"), (["plan", "--rate-limit", "40/s"], "arrival rate"),
                                          (["plan", "--rate", "fast", "--rate-limit", "40/s"], "--rate"), (["plan", "--rate", "2/s", "--daily", "9", "--rate-limit", "4"], "not both"),
                                          (["plan", "--rate", "2/s", "--rate-limit", "40/s", "--providers", "nope"], "unknown provider"),
                                          (["plan", "--rate", "2/s", "--rate-limit", "40/s", "--max-429", "200%"], "--max-429")] {
                try Self.expectUsageError(arguments, fragment, output: output)
            }
        }

        /// The release suite's strategies at a small scale: a live run against the embedded sandbox, then the
        /// simulation of the same suite with round trips fitted from it. A low time scale keeps a busy
        /// machine's milliseconds from turning into model seconds of lag, and polled providers only keep the
        /// lag percentiles away from the redirect flow's cluster near zero. 400 sessions keep the percentiles'
        /// sampling noise near 1 %, and 10 arrivals per model second keep the debug-built sandbox's latency low.
        @Test("simulation agrees with a live run within 5 % on mean polls per session and lag p50 and p90, per strategy")
        func agreementWithLiveRun() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let suite = output.appendingPathComponent("agree.yaml")
            try """
            name: agree
            description: the release suite's strategies, small
            seed: 1
            timeScale: 5
            clientTimeout: 30s
            workload:
              sessions: 400
              arrival: constant:10
              providers: {smartid: 3, bankidse: 1}
            strategies: [fixed:3s, "exp:1s,x2,max30s", "jitter:full,1s,30s"]
            sandbox:
              ttl: 30s
              rateLimit: none
            """.write(to: suite, atomically: true, encoding: .utf8)
            let live = try CLI.run(["run", "--suite", suite.path, "--name", "live", "--output", output.path])
            #expect(live.status == 0, "\(live.stderr)")
            let directory = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-live") })
            let simulated = try CLI.run(["simulate", "--suite", suite.path, "--check-against", output.appendingPathComponent(directory).path, "--output", output.path])
            #expect(simulated.status == 0, "\(simulated.stdout)\n\(simulated.stderr)")
            #expect(simulated.stdout.contains("agreement: every figure within 5% of the live run"), "\(simulated.stdout)")
            #expect(simulated.stdout.components(separatedBy: "detection lag p90 (ms)").count - 1 == 3)
        }
    }
}
