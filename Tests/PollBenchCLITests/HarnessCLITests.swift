import Foundation
import PollBenchCore
import Testing

extension EndToEnd {
    /// Whether pollbench itself limited a run: its own CPU, loop lag and connection waits, reported.
    @Suite("The harness reports its own health")
    struct HarnessCLITests {
        /// The one run directory under `output`.
        func runDirectory(_ output: URL) throws -> URL {
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first)
            return output.appendingPathComponent(name)
        }

        @Test("a closed workload over one connection per worker: the warning names connections; the waits are slip, not latency")
        func overloaded() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let result = try CLI.run([
                "run", "--sessions", "600", "--arrival", "closed:600", "--connections", "1", "--strategy", "fixed:1s", "--time-scale", "100", "--output", output.path,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let warning = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("⚠ the harness limited this measurement") })
            #expect(warning.contains("connections: ") && warning.contains("for one of the 1 per worker") && warning.contains("more --connections (now 1)"))
            let directory = try runDirectory(output)
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: directory.appendingPathComponent("summary.json")))
            let harness = try #require(record.harness)
            #expect(harness.warning.map { warning.hasPrefix($0) } == true)
            #expect(harness.connectionWait.count > 0 && harness.peakWaitingForConnection > 0 && harness.peakOpenConnections > 0)
            #expect(harness.requests == record.strategies.reduce(0) { total, strategy in total + strategy.responses.values.flatMap(\.values).reduce(0, +) })
            // A request is sent when its transfer starts: the wait for a connection is in slip, not in latency.
            let strategy = try #require(record.strategies.first)
            let slip = try #require(strategy.scheduleSlip.p99), latency = try #require(strategy.latency["status"]?.fromSent.p99)
            #expect(slip > 10 * latency, "slip p99 \(slip) ms, latency from the send p99 \(latency) ms")
            let csv = try String(contentsOf: directory.appendingPathComponent("harness.csv"), encoding: .utf8).split(separator: "\n")
            #expect(csv.first?.hasPrefix("second,process_cpu_ms,loop_cpu_ms,") == true && csv.count == harness.seconds.count + 1)
            #expect(csv.first?.hasSuffix(",busy_turn_max_ms") == true && csv.dropFirst().allSatisfy { !$0.hasSuffix(",") })
            // The loops' turns were timed: a bound on how long answers sat unread, and the longest turn each second.
            #expect((harness.socketWaitBound?.count ?? 0) > 0 && harness.seconds.allSatisfy { $0.busyTurnMaxMicros != nil })
            let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(html.contains("Harness health") && html.contains("<p class=\"warn\">⚠ the harness limited this measurement"))
        }

        @Test("a capacity search stops at the first rate where the harness limited its own measurement, and says the knee is not the target's")
        func capacitySearchStopsAtTheHarness() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let suite = output.appendingPathComponent("client.yaml")
            try """
            name: client
            timeScale: 100
            workload:
              sessions: 600
              arrival: constant:200
            strategies: [fixed:1s]
            sandbox:
              rateLimit: none
            capacity:
              rates: [200, 400]
            """.write(to: suite, atomically: true, encoding: .utf8)
            // One connection for 600 sessions arriving within a wall tenth of a second: requests wait for it.
            let result = try CLI.run(["run", "--suite", suite.path, "--connections", "1", "--output", output.path])
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stdout.contains("⚠ the harness limited this measurement") && result.stdout.contains("capacity: arrival rate 200.0 per model second"))
            #expect(!result.stdout.contains("capacity: arrival rate 400.0"), "the search went on past the harness's limit")
            #expect(result.stdout.contains("capacity: at 200.0 per model second pollbench itself limited the run (the warning above): no rate was measured with the harness unbound"))
            #expect(!result.stdout.contains("capacity knee:"))
        }

        /// On an idle machine this run warns of nothing. A loaded machine (CI runs other tests beside it) may
        /// really lag its loop, take its CPU or keep it from its sockets: then the warning must name only
        /// those, with figures that pass their bounds in summary.json, and never connections, which a light
        /// run does not wait for.
        @Test("a light run prints its harness line; no connection warning, and any other warning is borne out by its own figures")
        func light() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let result = try CLI.run(["run", "--sessions", "30", "--arrival", "constant:20", "--time-scale", "100", "--output", output.path])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("\nharness: CPU "))
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: try runDirectory(output).appendingPathComponent("summary.json")))
            let harness = try #require(record.harness)
            #expect(harness.requests > 0 && harness.cpuSeconds > 0 && harness.loopLag.count > 0)
            #expect(harness.longConnectionWaits == 0)
            let lagged = (harness.loopLag.p99 ?? 0) > HarnessHealth.loopLagP99BoundMillis
            let busy = Double(harness.busySeconds) > HarnessHealth.busySecondsShare * Double(harness.seconds.count)
            let unread = (harness.socketWaitBound?.p99 ?? 0) > HarnessHealth.loopLagP99BoundMillis
            #expect(harness.socketWaitBound != nil)
            #expect((harness.warning != nil) == (lagged || busy || unread), "\(harness.warning ?? "no warning")")
            #expect(result.stdout.contains("⚠") == (harness.warning != nil))
            if let warning = harness.warning {
                #expect(!warning.contains("connections:") && warning.contains("loop lag p99") == lagged && warning.contains("CPU: busy") == busy, "\(warning)")
                #expect(warning.contains("busy loop turns") == unread, "\(warning)")
            }
        }
    }
}
