import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PollBenchCore
import PollBenchCurl
import Testing

/// Launches the built `pollbench` binary, as a user would.
enum CLI {
    static let binary: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [beside, beside.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("pollbench")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return URL(fileURLWithPath: ".build/debug/pollbench")
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs pollbench with `arguments`; kills it after `timeout`.
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("POLLBENCH_") }.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(timeout.components.seconds)), execute: killer)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pollbench-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension EndToEnd {
    @Suite("pollbench command line, end to end", .serialized)
    struct CLITests {
        @Test("run against the embedded sandbox, past a proxy in the environment: table, every file, counts that agree, .hgrm that reads back")
        func runEndToEnd() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            // A proxy in the environment (here a closed port) must not come between the client and its embedded sandbox.
            let proxy = "http://127.0.0.1:9"
            let result = try CLI.run(
                ["run", "--sessions", "40", "--arrival", "constant:20", "--time-scale", "200", "--client-timeout", "40s", "--output", output.path, "--name", "e2e"],
                environment: ["http_proxy": proxy, "https_proxy": proxy, "HTTPS_PROXY": proxy, "all_proxy": proxy, "ALL_PROXY": proxy]
            )

            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("detection lag p50"))
            #expect(result.stdout.contains("ground truth: client and sandbox counts agree"))
            let runs = try FileManager.default.contentsOfDirectory(atPath: output.path)
            let directory = output.appendingPathComponent(try #require(runs.first { $0.hasSuffix("-e2e") }))
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: directory.appendingPathComponent("summary.json")))
            #expect(record.schema == "pollbench.run/1")
            #expect(record.strategies.map(\.name) == ["fixed:3s", "exp:1s,x2,max30s", "jitter:full,1s,30s"])
            #expect(record.groundTruthChecked && record.groundTruthDifferences.isEmpty)
            #expect(!record.run.partial)
            for strategy in record.strategies {
                #expect(strategy.sessions == 40)
                #expect(strategy.outcomes.values.reduce(0, +) == 40)
            }
            #expect(record.strategies.allSatisfy { $0.responses["create"]?["201"] == 40 })
            let markdown = try String(contentsOf: directory.appendingPathComponent("summary.md"), encoding: .utf8)
            #expect(markdown.contains("| detection lag p50 |"))
            let csv = try String(contentsOf: directory.appendingPathComponent("timeseries.csv"), encoding: .utf8)
            #expect(csv.hasPrefix("strategy,second,requests,http_429,started,ended,active"))

            let lag = try #require(HgrmReader(String(contentsOf: directory.appendingPathComponent("fixed-3s-detection-lag.hgrm"), encoding: .utf8)))
            let summary = record.strategies[0].detectionLag
            #expect(lag.totalCount == summary.count)
            let (p50, max) = (try #require(summary.p50), try #require(summary.max))
            #expect(abs((lag.value(atPercentile: 50) ?? -1) - p50) <= p50 * 0.001 + 0.001)
            #expect(abs((lag.max ?? -1) - max) <= max * 0.001 + 0.001)
        }

        @Test("bad input: one error line and exit 2", arguments: [
            (["run", "--strategy", "fixed:3"], "bad duration"), (["run", "--strategy", "nope:1s"], "unknown strategy"),
            (["run", "--arrival", "constant:-1"], "rate must be"), (["run", "--sessions", "0"], "--sessions"),
            (["run", "--client-timeout", "soon"], "--client-timeout"), (["run", "--mode", "parallel"], "--mode"),
            (["run", "--target", "http://example.com/api"], "--allow-non-sandbox"), (["run", "--target", "ftp://x"], "not an http(s) URL"),
            (["run", "--target", "http://127.0.0.1:9/api"], "POLLBENCH_CLIENT_ID"), (["sandbox", "--port", "70000"], "--port"),
            (["sandbox", "--config", "/nonexistent.json"], "cannot read"), (["frobnicate"], "argument 'frobnicate'"),
        ])
        func badInput(arguments: [String], fragment: String) throws {
            let result = try CLI.run(arguments)
            #expect(result.status == 2)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(fragment), "\(result.stderr)")
            #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack"))
        }

        @Test("an unreachable target: exit 3 and a one-line reason, decided before any session")
        func unreachable() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let result = try CLI.run(
                ["run", "--target", "http://127.0.0.1:9/api/v1", "--sessions", "3", "--arrival", "constant:100", "--output", output.path],
                environment: ["POLLBENCH_CLIENT_ID": "ABCD1234", "POLLBENCH_CLIENT_SECRET": "x"]
            )
            #expect(result.status == 3)
            #expect(result.stderr.hasPrefix("error: cannot reach the target: GET http://127.0.0.1:9/api/v1/providers failed with transport:connection-refused"), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)  // no session ran, so no run was written
        }

        @Test("a remote run against a standalone sandbox never shows the secret anywhere")
        func secretsStayOut() throws {
            let secret = "S3CRET-" + String(repeating: "9f", count: 28)
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let environment = ["POLLBENCH_CLIENT_ID": "SECRET01", "POLLBENCH_CLIENT_SECRET": secret]
            let sandbox = Process()
            sandbox.executableURL = CLI.binary
            // At 20x (which the runs adopt) its users finish within the runs' 60 model seconds (3 s wall), so the runs
            // measure something (a run that sees no session end fails).
            sandbox.arguments = ["sandbox", "--port", "0", "--time-scale", "20", "--credentials-file", output.appendingPathComponent("creds").path]
            sandbox.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let sandboxOut = Pipe()
            sandbox.standardOutput = sandboxOut
            sandbox.standardError = sandboxOut
            try sandbox.run()
            defer { if sandbox.isRunning { sandbox.terminate() } }
            let firstLine = try #require(readLine(sandboxOut.fileHandleForReading))
            let baseURL = try #require(firstLine.split(separator: " ").last.map(String.init))
            #expect(baseURL.hasPrefix("http://127.0.0.1:") && baseURL.hasSuffix("/api/v1"))

            let result = try CLI.run(
                ["run", "--target", baseURL, "--sessions", "5", "--arrival", "constant:50", "--strategy", "fixed:500ms", "--client-timeout", "60s", "--output", output.path, "--trace"],
                environment: environment
            )
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("→ POST \(baseURL)/verifications [s1-0] Authorization: Basic [redacted]"))
            #expect(result.stderr.contains("← 201 create "))

            // The same secret from a credentials file: accepted at mode 0600, refused when others can read it.
            let file = output.appendingPathComponent("credentials").path
            try "POLLBENCH_CLIENT_ID=SECRET01\nPOLLBENCH_CLIENT_SECRET=\(secret)\n".write(toFile: file, atomically: true, encoding: .utf8)
            chmod(file, 0o644)
            let open = try CLI.run(["run", "--target", baseURL, "--credentials", file, "--sessions", "2", "--output", output.path])
            #expect(open.status == 2 && open.stderr.contains("permissions 644 are too open"))
            chmod(file, 0o600)
            let fromFile = try CLI.run(
                ["run", "--target", baseURL, "--credentials", file, "--sessions", "3", "--arrival", "constant:50", "--strategy", "fixed:500ms", "--client-timeout", "60s", "--output", output.path]
            )
            #expect(fromFile.status == 0, "\(fromFile.stderr)")
            kill(sandbox.processIdentifier, SIGINT)
            sandbox.waitUntilExit()
            #expect(sandbox.terminationStatus == 0)
            let sandboxText = String(decoding: sandboxOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            var everything = result.stdout + result.stderr + fromFile.stdout + fromFile.stderr + open.stderr + firstLine + sandboxText
            let files = FileManager.default.enumerator(at: output, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
            for file in files where !file.hasDirectoryPath && file.lastPathComponent != "credentials" {
                everything += (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            }
            #expect(files.contains { $0.lastPathComponent == "summary.json" })
            #expect(!everything.contains(secret))
            #expect(!everything.contains(Data("SECRET01:\(secret)".utf8).base64EncodedString()))
        }

        private func readLine(_ handle: FileHandle) -> String? {
            var bytes: [UInt8] = []
            while true {
                let chunk = handle.readData(ofLength: 1)
                guard let byte = chunk.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
                if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            }
        }
    }
}

/// Starts `pollbench sandbox` as a separate process and reads its base URL.
struct SandboxProcess {
    let process: Process
    let baseURL: String
    let port: Int
    /// Its own folder, where its generated credentials and certificate go.
    let folder: URL

    init(port requested: Int = 0, environment: [String: String], arguments: [String] = []) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pb-sandbox-\(UUID().uuidString)")
        process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["sandbox", "--port", String(requested), "--credentials-file", folder.appendingPathComponent("credentials").path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line: [UInt8] = []
        while let byte = pipe.fileHandleForReading.readData(ofLength: 1).first, byte != 0x0A { line.append(byte) }
        baseURL = String(decoding: line, as: UTF8.self).split(separator: " ").last.map(String.init) ?? ""
        port = baseURL.split(separator: ":").last.flatMap { Int($0.split(separator: "/").first ?? "") } ?? 0
    }

    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}

extension EndToEnd {
    @Suite("A target that goes away mid-run and comes back", .serialized)
    struct TargetOutageTests {
        /// Waits, a poll of its ground truth at a time, until the sandbox on `port` has created `count` sessions.
        static func created(atLeast count: Int, port: Int) async throws -> Bool {
            let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 1))
            defer { transport.shutdown() }
            for _ in 0..<1_000 {
                if case .success(let answer) = await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/admin/stats")),
                   let created = (try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])?["created"] as? Int, created >= count {
                    return true
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            return false
        }

        @Test("the run finishes, every session ends once, and the refused connections and lost sessions are counted")
        func awayAndBack() async throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let environment = ["POLLBENCH_CLIENT_ID": "OUTAGE01", "POLLBENCH_CLIENT_SECRET": String(repeating: "a1", count: 32)]
            let first = try SandboxProcess(environment: environment, arguments: ["--time-scale", "20"])
            #expect(first.port > 0)

            let client = Process()
            client.executableURL = CLI.binary
            client.arguments = [
                // The client adopts the sandbox's 20x: 80 model seconds of arrivals (4 s wall), sessions alive up to
                // 60 model seconds (3 s wall), so the outage from 1.5 s to 2.5 s falls inside the run.
                "run", "--target", first.baseURL, "--sessions", "40", "--arrival", "constant:0.5", "--strategy", "fixed:1s",
                "--client-timeout", "60s", "--create-retries", "4", "--output", output.path, "--name", "outage",
            ]
            client.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            client.standardOutput = FileHandle.nullDevice
            client.standardError = FileHandle.nullDevice
            try client.run()

            // Under way once the sandbox has created 10 of the run's sessions (counted at its /admin/stats):
            // then it goes, and comes back on the same port while the run keeps polling and creating.
            #expect(try await Self.created(atLeast: 10, port: first.port))
            first.kill()
            let second = try SandboxProcess(port: first.port, environment: environment, arguments: ["--time-scale", "20"])
            defer { second.kill() }
            #expect(second.port == first.port)
            client.waitUntilExit()

            // The restarted sandbox's model clock starts afresh at 20x: no one offset fits the creates of both
            // halves, so the run refuses to correct lags with one and exits 1.
            #expect(client.terminationStatus == 1)
            let directory = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-outage") })
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: output.appendingPathComponent("\(directory)/summary.json")))
            let summary = try #require(record.strategies.first)
            #expect(summary.sessions == 40 && summary.outcomes.values.reduce(0, +) == 40)
            #expect(summary.transportErrors["connection-refused", default: 0] > 0)
            #expect(summary.responses["create"]?["201", default: 0] ?? 0 > 0)
            // Sessions created before the outage are unknown to the new sandbox: 404, counted as errors.
            #expect(summary.responses["status"]?["404", default: 0] ?? 0 > 0)
            #expect(summary.outcomes["error", default: 0] > 0)
        }
    }
}

extension EndToEnd {
    @Suite("Interrupts and refused targets", .serialized)
    struct InterruptTests {
        /// Starts a long run and returns once it is under way (its first `progress:` line), with its standard error.
        func startRun(_ output: URL, extra: [String] = []) throws -> (Process, Pipe) {
            let process = Process()
            let errors = Pipe()
            process.executableURL = CLI.binary
            process.arguments = ["run", "--sessions", "2000", "--arrival", "constant:5", "--time-scale", "5", "--output", output.path, "--name", "stopped"] + extra
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            while let line = FakeTarget.readLine(errors.fileHandleForReading), !line.hasPrefix("progress: ") {}
            return (process, errors)
        }

        @Test("the first SIGINT stops the run and writes valid results marked partial; exit 130")
        func firstSignal() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let (process, errors) = try startRun(output)
            kill(process.processIdentifier, SIGINT)
            _ = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 130)
            let directory = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-stopped") })
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: output.appendingPathComponent("\(directory)/summary.json")))
            #expect(record.run.partial)
            let first = try #require(record.strategies.first)
            #expect(first.sessions > 0 && first.sessions < 2_000)
            #expect(first.outcomes["interrupted", default: 0] > 0)
            #expect(first.outcomes.values.reduce(0, +) == first.sessions)
            #expect(record.groundTruthDifferences.isEmpty)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent(directory).path).filter { $0.contains(".tmp-") }
            #expect(leftovers.isEmpty)
        }

        /// The first signal also exits 130, after writing results: the second is told apart by its own line
        /// and by the results it does not write. Signals sent back to back can merge into one, so the second
        /// goes only once the first has been taken; every answer is held 4 s (injected latency), so the run
        /// is still waiting for its requests in flight when it comes.
        @Test("a second signal exits at once, without results")
        func secondSignal() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let suite = output.appendingPathComponent("slow.yaml")
            try """
                name: slow
                description: every answer held 4 s
                workload: {sessions: 200, arrival: "constant:20"}
                strategies: [fixed:3s]
                sandbox:
                  faults:
                    latency: {rate: 1, median: 4s, p95: 4s}
                """.write(to: suite, atomically: true, encoding: .utf8)
            let (process, errors) = try startRun(output, extra: ["--suite", suite.path])
            kill(process.processIdentifier, SIGTERM)
            var stderr = ""
            let deadline = Date().addingTimeInterval(30)
            while !stderr.contains("interrupted: stopping"), Date() < deadline {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                stderr += String(decoding: chunk, as: UTF8.self)
            }
            kill(process.processIdentifier, SIGTERM)
            stderr += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 130)
            #expect(stderr.contains("interrupted: stopping and writing partial results"))
            #expect(stderr.contains("interrupted again: exiting at once, without results"), "\(stderr)")
            let directories = try FileManager.default.contentsOfDirectory(atPath: output.path)
            #expect(!directories.contains { FileManager.default.fileExists(atPath: output.appendingPathComponent("\($0)/summary.json").path) })
        }

        @Test("wrong credentials and a TLS failure: exit 3 with the reason, before any session", arguments: [
            ("http", "error: the target refused the credentials: GET ", "answered 401 application/json"), ("https", "error: cannot reach the target: GET ", "failed with transport:tls"),
        ])
        func refused(scheme: String, prefix: String, reason: String) throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let sandbox = try SandboxProcess(environment: ["POLLBENCH_CLIENT_ID": "RIGHT001", "POLLBENCH_CLIENT_SECRET": "right"])
            defer { sandbox.kill() }
            let target = sandbox.baseURL.replacingOccurrences(of: "http://", with: "\(scheme)://")
            let result = try CLI.run(
                ["run", "--target", target, "--sessions", "3", "--arrival", "constant:50", "--create-retries", "0", "--output", output.path],
                environment: ["POLLBENCH_CLIENT_ID": "RIGHT001", "POLLBENCH_CLIENT_SECRET": "wrong"]
            )
            #expect(result.status == 3)
            #expect(result.stderr.hasPrefix(prefix) && result.stderr.contains(reason), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
        }
    }
}

extension EndToEnd {
    @Suite("The sandbox under a flood of creates", .serialized)
    struct SandboxFloodTests {
        /// Resident memory of a process, from /proc, in KiB.
        func residentKiB(_ pid: Int32) -> Int {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }

        /// One create per session: the first poll (1 h away) is past the client timeout, and a QR provider
        /// has no redirect step that would hold a slot until the client gives up. Such a run sees no session
        /// end, so it says that it measured nothing and exits 1.
        func flood(_ baseURL: String, sessions: Int, output: URL, environment: [String: String]) throws {
            let result = try CLI.run(
                ["run", "--target", baseURL, "--sessions", String(sessions), "--arrival", "closed:64", "--strategy", "fixed:1h",
                 "--client-timeout", "1s", "--providers", "bankidse", "--output", output.path, "--name", "flood"],
                environment: environment, timeout: .seconds(300)
            )
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stdout.contains("✗ fixed:1h measured nothing: none of its \(sessions) sessions saw a terminal status (\(sessions) client-timeout)"))
        }

        @Test("sessions are evicted, and memory stays flat from 5,000 to 45,000 creates")
        func flood() async throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let environment = ["POLLBENCH_CLIENT_ID": "FLOOD001", "POLLBENCH_CLIENT_SECRET": "flood"]
            let config = output.appendingPathComponent("sandbox.json")
            try #"{"ttlSeconds": 0.5, "graceSeconds": 0}"#.write(to: config, atomically: true, encoding: .utf8)
            let sandbox = try SandboxProcess(environment: environment, arguments: ["--config", config.path])
            defer { sandbox.kill() }
            let pid = sandbox.process.processIdentifier

            try flood(sandbox.baseURL, sessions: 5_000, output: output, environment: environment)
            let warm = residentKiB(pid)
            try flood(sandbox.baseURL, sessions: 40_000, output: output, environment: environment)
            let after = residentKiB(pid)

            let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 1))
            defer { transport.shutdown() }
            let metrics = String(decoding: try await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(sandbox.port)/admin/metrics")).get().body, as: UTF8.self)
            func gauge(_ name: String) -> Int? {
                metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
            }
            #expect(gauge("pollbench_sandbox_sessions_created_total") == 45_000)
            let live = try #require(gauge("pollbench_sandbox_sessions_in_memory"))
            #expect(live < 20_000, "\(live) sessions still held")  // bounded by TTL × create rate; 45,000 without eviction
            #expect(warm > 0 && after > 0)
            // 40,000 more sessions kept would take tens of MiB; evicted, the server stays within a few.
            #expect(after - warm < 24 * 1_024, "RSS grew from \(warm) KiB to \(after) KiB")
        }
    }
}
