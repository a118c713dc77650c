import Foundation
import PollBenchCore
import Testing

extension EndToEnd {
    /// A standalone sandbox that behaves as a remote service does: its own clock, TLS, another API generation.
    @Suite("A remote target's own clock, protocol and API generation", .serialized)
    struct RealTargetCLITests {
        /// A provider whose users scan within a fraction of a second and always complete, so that a real-time
        /// run ends in seconds.
        static let quickProviderConfig = """
            {"providers": [{"id": "quick", "name": "Quick", "countries": ["SE"], "flowType": "qr", "channel": "centralized_idp",
              "transport": "qr_code", "evidenceKeys": ["personalNumber"],
              "behaviour": {"firstAction": {"median": 0.3, "p95": 0.6}, "completion": {"median": 0.4, "p95": 0.8},
                            "completed": 1, "failed": 0, "cancelled": 0}}]}
            """
        static let environment = ["POLLBENCH_CLIENT_ID": "SKEW0001", "POLLBENCH_CLIENT_SECRET": String(repeating: "ab", count: 32)]

        /// Runs ten quick sessions against `baseURL` in real time and returns the record.
        static func quickRun(_ baseURL: String, extra: [String] = [], in output: URL, name: String) throws -> RunRecord {
            let result = try CLI.run(
                ["run", "--target", baseURL, "--sessions", "10", "--arrival", "constant:20", "--strategy", "fixed:250ms", "--providers", "quick",
                 "--client-timeout", "30s", "--output", output.path, "--name", name] + extra,
                environment: environment
            )
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("clock offset (service − client): "))
            let directory = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-\(name)") })
            return try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: output.appendingPathComponent("\(directory)/summary.json")))
        }

        static func writeQuickConfig(in output: URL) throws -> String {
            let path = output.appendingPathComponent("quick.json").path
            try quickProviderConfig.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test("a service clock 7.5 s ahead or behind is recovered within the stated uncertainty, and detection lag is corrected by it", arguments: [7_500, -7_500])
        func clockSkew(skewMillis: Int) throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let sandbox = try SandboxProcess(
                environment: Self.environment, arguments: ["--config", try Self.writeQuickConfig(in: output), "--clock-skew=\(Double(skewMillis) / 1_000)s"]
            )
            defer { sandbox.kill() }
            let record = try Self.quickRun(sandbox.baseURL, in: output, name: "skew")
            let offset = try #require(record.clockOffset)
            #expect(!offset.exact)
            // Both clocks are the wall clock to the microsecond (the sandbox's plus the skew); a little slack
            // covers the two readings each makes of the wall and the monotonic clock.
            #expect(abs(offset.offsetMillis - Double(skewMillis)) <= offset.uncertaintyMillis + 0.2, "offset \(offset.offsetMillis) ± \(offset.uncertaintyMillis) ms")
            #expect(offset.uncertaintyMillis < Double(abs(skewMillis)) / 2)  // the sign and size are known, not only bounded
            let fixed = try #require(record.strategies.first)
            #expect(fixed.outcomes["completed"] == 10 && fixed.detectionLagUnknown == 0 && fixed.detectionLag.count == 10)
            // Uncorrected, every lag would be 7.5 s too long (ahead) or clamped to zero (behind).
            let maxLag = try #require(fixed.detectionLag.max)
            #expect(maxLag < Double(abs(skewMillis)) / 2 && maxLag > 0)
        }

        @Test("HTTPS with HTTP/2 by ALPN: a standalone sandbox --tls verified with its written certificate, refused without it, and run --tls embedded")
        func tls() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let sandbox = try SandboxProcess(environment: Self.environment, arguments: ["--config", try Self.writeQuickConfig(in: output), "--tls"])
            defer { sandbox.kill() }
            #expect(sandbox.baseURL.hasPrefix("https://127.0.0.1:"))
            let certificate = sandbox.folder.appendingPathComponent("sandbox-cert.pem").path
            let record = try Self.quickRun(sandbox.baseURL, extra: ["--ca-bundle", certificate], in: output, name: "h2")
            let transport = try #require(record.strategies.first?.transport)
            #expect(record.strategies.first?.outcomes["completed"] == 10 && record.strategies.first?.transportErrors.isEmpty == true)
            #expect(transport.connections.httpVersions.keys.sorted() == ["2"] && transport.connections.opened >= 1 && transport.connections.reused > 0)
            #expect((transport.overall["tls"]?.count ?? 0) == UInt64(transport.connections.opened) && (transport.overall["tls"]?.p50 ?? 0) > 0)
            #expect(transport.phases["status"]?["first-byte"]?.count ?? 0 > 0)

            // Verification is on: without the certificate the handshake fails, and no session starts.
            let unverified = try CLI.run(
                ["run", "--target", sandbox.baseURL, "--sessions", "2", "--strategy", "fixed:250ms", "--providers", "quick", "--create-retries", "0",
                 "--output", output.path, "--name", "noca"],
                environment: Self.environment
            )
            #expect(unverified.status == 3 && unverified.stderr.contains("transport:tls"), "\(unverified.stderr)")

            // The embedded sandbox over HTTPS, asked for HTTP/1.1: each connection pays one handshake.
            let embedded = try CLI.run(
                ["run", "--tls", "--http", "1.1", "--sessions", "20", "--arrival", "constant:20", "--time-scale", "100", "--strategy", "fixed:3s",
                 "--output", output.path, "--name", "tls11"]
            )
            #expect(embedded.status == 0, "\(embedded.stderr)")
            #expect(embedded.stdout.contains("HTTP/1.1") && embedded.stdout.contains("TLS handshake p50") && embedded.stdout.contains("counts agree"))
            let summary = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-tls11") })
            let markdown = try String(contentsOfFile: output.appendingPathComponent("\(summary)/summary.md").path, encoding: .utf8)
            #expect(markdown.contains("| fixed:3s | status |") && markdown.contains("Transfer phases"))
        }

        @Test("connect-v1: the client completes every flow given only the /connect/v1 base URL, and counts problems by their titles")
        func connectV1() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let sandbox = try SandboxProcess(environment: Self.environment, arguments: ["--config", try Self.writeQuickConfig(in: output), "--api", "connect-v1"])
            defer { sandbox.kill() }
            #expect(sandbox.baseURL.hasSuffix("/connect/v1"))
            let record = try Self.quickRun(sandbox.baseURL, in: output, name: "c1")
            let fixed = try #require(record.strategies.first)
            #expect(fixed.outcomes["completed"] == 10 && fixed.unknownStatuses.isEmpty && fixed.transportErrors.isEmpty && fixed.apiErrorCodes.isEmpty)
            #expect((fixed.pollsPerSession.max ?? 0) > 1)  // it polled through the waiting states, which it knows as open

            let refused = try CLI.run(
                ["run", "--target", sandbox.baseURL, "--sessions", "1", "--strategy", "fixed:250ms", "--providers", "quick", "--create-retries", "0",
                 "--output", output.path, "--name", "bad"],
                environment: ["POLLBENCH_CLIENT_ID": "SKEW0001", "POLLBENCH_CLIENT_SECRET": "wrong"]
            )
            // Refused before any session, the problem named by its title (connect-v1's problems have no code).
            #expect(refused.status == 3 && refused.stderr.contains("answered 401 application/problem+json, \"Invalid client credentials\""), "\(refused.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).allSatisfy { !$0.hasSuffix("-bad") })
        }

        /// nginx serving a fixed API stub over TLS with `http2`: a create, a completed status and the two documents.
        static func nginxStub(in folder: URL, port: Int) throws -> String {
            let created = #"{"verificationId":"3f2a9c1d7e4b4f8a9b0c1d2e3f4a5b6c","status":"initiated","providerId":"bankidse","flowType":"qr","flowDetails":{"qrData":"bankidse:///?token=x"},"createdAt":"2026-11-29T22:00:00.000Z","expiresAt":"2026-11-29T22:05:00.000Z"}"#
            let completed = #"{"verificationId":"3f2a9c1d7e4b4f8a9b0c1d2e3f4a5b6c","status":"completed","providerId":"bankidse","flowType":"qr","createdAt":"2026-11-29T22:00:00.000Z","expiresAt":"2026-11-29T22:05:00.000Z","verifiedAt":"2026-11-29T22:00:01.000Z"}"#
            let dir = folder.path
            return """
                worker_processes 1;
                daemon off;
                pid \(dir)/nginx.pid;
                error_log \(dir)/error.log warn;
                events { worker_connections 1024; }
                http {
                    access_log off;
                    client_body_temp_path \(dir); proxy_temp_path \(dir); fastcgi_temp_path \(dir); uwsgi_temp_path \(dir); scgi_temp_path \(dir);
                    server {
                        listen 127.0.0.1:\(port) ssl http2;
                        ssl_certificate \(dir)/cert.pem;
                        ssl_certificate_key \(dir)/key.pem;
                        default_type application/json;
                        location = /api/v1/providers { return 200 '[{"id":"bankidse"},{"id":"frejaid"},{"id":"smartid"},{"id":"evrotrust"},{"id":"mitid"}]'; }
                        location = /api/v1/verifications { return 201 '\(created)'; }
                        location ~ ^/api/v1/verifications/[0-9a-f]+/userinfo$ { return 200 '{"sub":"s","acr":"a","provider_id":"bankidse","user":{"given_name":"A"}}'; }
                        location ~ ^/api/v1/verifications/[0-9a-f]+/evidence$ { return 200 '{"token":{"k":"v"},"names":"k"}'; }
                        location ~ ^/api/v1/verifications/[0-9a-f]+$ { return 200 '\(completed)'; }
                    }
                }
                """
        }

        @Test("against nginx's TLS and http2 serving the API stub, verification on: no errors, HTTP/2, its connections and TLS handshakes reported")
        func nginxOverTLS() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", output.appendingPathComponent("key.pem").path,
                                 "-out", output.appendingPathComponent("cert.pem").path, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            #expect(openssl.terminationStatus == 0)
            var port = 0
            var nginx: Process?
            for candidate in 0..<20 where nginx == nil {  // a free port, found by nginx binding it
                port = 20_000 + (Int(getpid()) * 7 + candidate * 1_009) % 20_000
                try Self.nginxStub(in: output, port: port).write(to: output.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
                process.arguments = ["-c", output.appendingPathComponent("nginx.conf").path, "-p", output.path]
                process.standardError = FileHandle.nullDevice
                try process.run()
                var listening = false
                for _ in 0..<100 where process.isRunning && !listening {
                    listening = (try? String(contentsOf: output.appendingPathComponent("nginx.pid"), encoding: .utf8)) != nil
                    if !listening { usleep(20_000) }
                }
                if listening { nginx = process } else { process.terminate() }
            }
            let server = try #require(nginx)
            defer { server.terminate(); server.waitUntilExit() }
            let result = try CLI.run(
                ["run", "--target", "https://127.0.0.1:\(port)/api/v1", "--ca-bundle", output.appendingPathComponent("cert.pem").path, "--sessions", "200",
                 "--arrival", "constant:100", "--strategy", "fixed:1s", "--output", output.path, "--name", "nginx"],
                environment: Self.environment
            )
            // The stub's createdAt never moves: a clock frozen against the client's, which the run reports (and so
            // corrects no lag by an offset and exits 1) while the transport's own figures stand.
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stdout.contains("✗ the service's clock runs at 0.00× the client's"), "\(result.stdout)")
            #expect(result.stdout.contains("HTTP/2") && result.stdout.contains("TLS handshake p50"))
            let directory = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-nginx") })
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: output.appendingPathComponent("\(directory)/summary.json")))
            let fixed = try #require(record.strategies.first)
            let transport = try #require(fixed.transport)
            #expect(fixed.outcomes["completed"] == 200 && fixed.transportErrors.isEmpty && fixed.requests == 800)
            #expect(transport.connections.httpVersions == ["2": 800] && transport.connections.opened + transport.connections.reused == 800)
            #expect(transport.connections.opened >= 1 && transport.overall["tls"]?.count == UInt64(transport.connections.opened))
        }
    }
}
