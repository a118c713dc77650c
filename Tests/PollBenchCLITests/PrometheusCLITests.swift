import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PollBenchCore
import PollBenchCurl
import Testing

extension EndToEnd {
    /// `run --metrics-listen` scraped by a real Prometheus server (Debian's `prometheus`, which the test
    /// command installs), whose answers are checked against the run's own summary.
    @Suite("Live metrics, scraped by Prometheus")
    struct PrometheusCLITests {
        static let prometheus = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) }

        /// A port free now, for a server that cannot be told to pick its own.
        static func freePort() -> Int {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        /// One instant query's single value.
        static func query(_ transport: CurlTransport, port: Int, _ expression: String) async throws -> Double? {
            let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let answer = try await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/api/v1/query?query=\(encoded)")).get()
            let document = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
            let results = (document?["data"] as? [String: Any])?["result"] as? [[String: Any]]
            return ((results?.first?["value"] as? [Any])?.last as? String).flatMap(Double.init)
        }

        @Test("Prometheus scrapes a 10-second run each second: its request total and detection-lag p90 match summary.json", .enabled(if: prometheus != nil, "Prometheus is not installed here (apt-get install prometheus); CI installs it and runs this test"))
        func scrapedByPrometheus() async throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            // 120 sessions over 100 model seconds at 10x: arrivals for 10 s of wall time, ends a little after.
            let run = Process()
            run.executableURL = CLI.binary
            run.arguments = [
                "run", "--sessions", "120", "--arrival", "constant:1.2", "--time-scale", "10", "--strategy", "fixed:2s", "--no-rate-limit", "--client-timeout", "120s",
                "--max-duration", "90s", "--metrics-listen", "127.0.0.1:0", "--output", output.path,
            ]
            let lines = Pipe()
            run.standardOutput = lines
            run.standardError = FileHandle.nullDevice
            try run.run()
            defer { if run.isRunning { kill(run.processIdentifier, SIGKILL) } }
            var announced: String?
            while announced == nil, let line = FakeTarget.readLine(lines.fileHandleForReading) {  // the readiness line comes before the first session
                if line.hasPrefix("metrics: ") { announced = String(line.dropFirst("metrics: ".count)) }
            }
            let metricsURL = try #require(announced.flatMap(URL.init(string:)))
            let target = "\(metricsURL.host ?? ""):\(metricsURL.port ?? 0)"

            let port = Self.freePort()
            let config = output.appendingPathComponent("prometheus.yml")
            try """
                global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
                scrape_configs:
                  - job_name: pollbench
                    static_configs: [{targets: ["\(target)"]}]
                """.write(to: config, atomically: true, encoding: .utf8)
            let server = Process()
            server.executableURL = URL(fileURLWithPath: try #require(Self.prometheus))
            server.arguments = ["--config.file=\(config.path)", "--storage.tsdb.path=\(output.path)/tsdb", "--web.listen-address=127.0.0.1:\(port)"]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            defer {
                kill(server.processIdentifier, SIGKILL)  // a child of the test runner inherits its blocked signals
                server.waitUntilExit()
            }
            let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 1))
            defer { transport.shutdown() }
            var ready = false
            for _ in 0..<300 where !ready {  // Prometheus's own readiness endpoint, up to 30 s
                if case .success(let answer) = await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/-/ready")), answer.status == 200 { ready = true } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(ready)

            // A scrape during the run reads with the Prometheus project's own Python text parser.
            let scrape = try await transport.execute(HTTPRequest(url: metricsURL.absoluteString)).get()
            let parser = Process()
            parser.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            parser.arguments = ["python3", "-c", """
                import sys
                from prometheus_client.parser import text_string_to_metric_families
                families = {f.name: f.type for f in text_string_to_metric_families(sys.stdin.read())}
                print(families["pollbench_requests"], families["pollbench_detection_lag_seconds"], families["process_cpu_seconds"], len(families))
                """]
            let (input, parsed) = (Pipe(), Pipe())
            parser.standardInput = input
            parser.standardOutput = parsed
            try parser.run()
            input.fileHandleForWriting.write(Data(scrape.body))
            try input.fileHandleForWriting.close()
            let families = String(decoding: parsed.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            parser.waitUntilExit()
            #expect(parser.terminationStatus == 0 && families.hasPrefix("counter histogram counter "), "\(families)")

            _ = lines.fileHandleForReading.readDataToEndOfFile()  // until the run ends
            run.waitUntilExit()
            #expect(run.terminationStatus == 0)
            let directory = try #require(try FileManager.default.contentsOfDirectory(at: output, includingPropertiesForKeys: nil).first { $0.lastPathComponent.hasSuffix("-run") })
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: directory.appendingPathComponent("summary.json")))
            let strategy = try #require(record.strategies.first)
            #expect(record.run.wallSeconds >= 10)

            // Requests: Prometheus's last scrape came at most a scrape interval before the run's end. Its series
            // went stale when the run stopped serving them, so the queries take each one's last value in range.
            let requests = strategy.responses.values.flatMap(\.values).reduce(0, +)
            let scraped = try #require(try await Self.query(transport, port: port, "sum(max_over_time(pollbench_requests_total[5m]))"))
            let perSecond = try String(contentsOf: directory.appendingPathComponent("timeseries.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
                .compactMap { row in row.split(separator: ",").dropLast(4).last.flatMap { Int($0) } }
            let lastInterval = zip(perSecond, perSecond.dropFirst()).map { $0 + $1 }.max() ?? perSecond.max() ?? 0
            #expect(Int(scraped) <= requests && requests - Int(scraped) <= lastInterval, "Prometheus \(scraped), summary \(requests), bound \(lastInterval)")

            // Detection lag: Prometheus's quantile over the buckets lies near the run's own p90.
            let p90 = try #require(try await Self.query(transport, port: port, "histogram_quantile(0.9, sum by (le) (max_over_time(pollbench_detection_lag_seconds_bucket[5m])))"))
            let own = try #require(strategy.detectionLag.p90) / 1_000
            #expect(abs(p90 - own) <= 0.12 * own, "Prometheus p90 \(p90) s, summary p90 \(own) s")
        }
    }
}
