import Foundation
import PollBenchCore
import Testing

extension EndToEnd {
    @Suite("pollbench with webhooks, end to end", .serialized)
    struct WebhookCLITests {
        static func record(in output: URL, named name: String) throws -> RunRecord {
            let runs = try FileManager.default.contentsOfDirectory(atPath: output.path)
            let directory = output.appendingPathComponent(try #require(runs.first { $0.hasSuffix("-" + name) }))
            return try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: directory.appendingPathComponent("summary.json")))
        }

        @Test("fixed:3s, webhook+fixed:30s and webhook side by side: webhooks cut lag to about the delivery delay and requests to about 3; the secret shows nowhere")
        func sideBySide() throws {
            let secret = "WHSEC-" + String(repeating: "7e", count: 24)
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let result = try CLI.run(
                // Time scale 20: a loaded machine's millisecond of wall time is 20 ms of model time, not 100.
                ["run", "--strategy", "fixed:3s", "--strategy", "webhook+fixed:30s", "--strategy", "webhook", "--sessions", "40", "--arrival", "constant:10",
                 "--time-scale", "20", "--client-timeout", "60s", "--output", output.path, "--name", "hooks"],
                environment: ["POLLBENCH_WEBHOOK_SECRET": secret]
            )
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("seen first by webhook / poll") && result.stdout.contains("webhook delivery lag p50"))
            let record = try Self.record(in: output, named: "hooks")
            #expect(record.groundTruthChecked && record.groundTruthDifferences.isEmpty, "\(record.groundTruthDifferences)")
            let (polled, hybrid, webhook) = (record.strategies[0], record.strategies[1], record.strategies[2])
            #expect(polled.webhooks == nil && hybrid.webhooks != nil && webhook.webhooks != nil)
            let polledP50 = try #require(polled.detectionLag.p50)
            #expect(try #require(hybrid.detectionLag.p50) < polledP50 / 2 && (try #require(webhook.detectionLag.p50)) < polledP50 / 2)
            #expect((2.5...3.5).contains(webhook.requestsPerSession) && hybrid.requestsPerSession < polled.requestsPerSession / 2)
            #expect((hybrid.webhooks?.counts.noticedFirst["webhook"] ?? 0) > 20)  // the webhook, not the safety poll, sees most ends
            #expect((hybrid.webhooks?.inboxWait?.count ?? 0) > 30)  // the harness's own share of each delivery, measured
            #expect((record.webhookReceiver?.received ?? 0) >= 70 && record.sandboxWebhooks?.delivered == record.sandboxWebhooks?.attempts)
            var everything = result.stdout + result.stderr
            let runs = try FileManager.default.subpathsOfDirectory(atPath: output.path)
            for file in runs { everything += (try? String(contentsOf: output.appendingPathComponent(file), encoding: .utf8)) ?? "" }
            #expect(!everything.contains(secret))
        }

        @Test("a live and a simulated run of a hybrid agree within 5 % on detection lag and requests")
        func liveAgreesWithSimulation() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            // Time scale 1: the receiver's own wall-clock path (a millisecond or two, more on a loaded machine) stays
            // well under 5 % of a 200 ms delivery.
            let common = ["--strategy", "webhook+fixed:30s", "--sessions", "30", "--arrival", "constant:3", "--time-scale", "1", "--client-timeout", "40s", "--output", output.path]
            let live = try CLI.run(["run"] + common + ["--name", "live"], timeout: .seconds(300))
            #expect(live.status == 0, "\(live.stderr)")
            let runs = try FileManager.default.contentsOfDirectory(atPath: output.path)
            let directory = output.appendingPathComponent(try #require(runs.first { $0.hasSuffix("-live") }))
            let simulated = try CLI.run(["simulate"] + common + ["--name", "sim", "--check-against", directory.path, "--tolerance", "5%"])
            #expect(simulated.status == 0, "\(simulated.stdout)\n\(simulated.stderr)")
            #expect(simulated.stdout.contains("requests / session") && simulated.stdout.contains("agreement: every figure within 5%"))
        }

        @Test("bad webhook settings: one error line and exit 2", arguments: [
            (["run", "--strategy", "webhook", "--webhook-listen", "0.0.0.0:9000"], "not a loopback address"),
            (["run", "--strategy", "webhook", "--webhook-listen", "localhost"], "HOST:PORT"),
            (["run", "--strategy", "webhook", "--webhook-url", "ftp://x"], "not an http(s) URL"),
            (["run", "--strategy", "webhook", "--webhook-url", "https://hooks.example.com/in"], "loopback only"),
            (["run", "--strategy", "webhook", "--webhook-timeout", "soon"], "--webhook-timeout"),
            (["run", "--strategy", "webhook+webhook"], "safety poll"),
            (["run", "--strategy", "webhook", "--target", "http://127.0.0.1:9/api/v1"], "POLLBENCH_WEBHOOK_SECRET"),
        ])
        func badInput(arguments: [String], fragment: String) throws {
            let result = try CLI.run(arguments, environment: ["POLLBENCH_CLIENT_ID": "ABCD1234", "POLLBENCH_CLIENT_SECRET": "x"])
            #expect(result.status == 2)
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(fragment), "\(result.stderr)")
        }
    }
}
