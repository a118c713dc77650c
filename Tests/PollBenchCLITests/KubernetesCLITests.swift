import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PollBenchCore
import PollBenchCurl
import Testing

extension EndToEnd {
    @Suite("Sharded runs and Kubernetes, end to end", .serialized)
    struct KubernetesCLITests {
        @Test("the manifests validate offline against Kubernetes' published schemas (kubernetes-validate, strict)")
        func manifestsValidate() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let generated = try CLI.run(["kubernetes", "--suite", "release", "--shards", "4", "--image", "registry.example.com/pollbench:0.1.0", "--namespace", "bench", "--run-id", "release-1"])
            #expect(generated.status == 0, "\(generated.stderr)")
            let yaml = generated.stdout
            #expect(yaml.contains("completionMode: Indexed") && yaml.contains("parallelism: 4") && yaml.contains("backoffLimitPerIndex: 1"))
            #expect(yaml.contains("secretKeyRef:") && !yaml.contains("POLLBENCH_CLIENT_SECRET=") && yaml.contains("claimName: pollbench-results"))
            #expect(yaml.contains("pollbench merge /results/release-1/shard-*/* --output /results/release-1/merged"))
            let file = output.appendingPathComponent("manifests.yaml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
            let validate = Process()
            validate.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            validate.arguments = ["python3", "-m", "kubernetes_validate", "--strict", file.path]  // no console script needed on PATH
            let out = Pipe()
            validate.standardOutput = out
            validate.standardError = out
            try validate.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            validate.waitUntilExit()
            #expect(validate.terminationStatus == 0, "\(text)")
            #expect(text.components(separatedBy: "passed for resource job/").count == 3, "\(text)")
            let bad = try CLI.run(["kubernetes", "--suite", "release", "--shards", "0", "--image", "x"])
            #expect(bad.status == 2 && bad.stderr.contains("--shards"))
        }

        /// The Indexed Job's own container command, as Kubernetes would run it in pod `index`: its
        /// `$(JOB_COMPLETION_INDEX)` expanded, `pollbench` the built binary, the shared volume a local folder.
        static func podCommand(_ yaml: String, volume: URL) throws -> [String] {
            let line = try #require(yaml.split(separator: "\n").first { $0.contains("command: [\"pollbench\", \"run\"") })
            let list = line[line.index(after: try #require(line.firstIndex(of: "[")))..<(try #require(line.lastIndex(of: "]")))]
            return list.components(separatedBy: "\", \"").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).replacingOccurrences(of: "/results", with: volume.path) }
        }

        @Test("a local stand-in for the Job: the manifest's command as four processes with JOB_COMPLETION_INDEX=0…3 against one sandbox, merged; the counts equal the sandbox's")
        func localStandIn() async throws {
            let volume = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: volume) }
            let environment = ["POLLBENCH_CLIENT_ID": "SHARDS01", "POLLBENCH_CLIENT_SECRET": String(repeating: "5a", count: 16)]
            let sandbox = try SandboxProcess(environment: environment, arguments: ["--time-scale", "100"])
            defer { sandbox.kill() }
            let suite = volume.appendingPathComponent("shards.yaml")
            try """
            name: shards
            target: \(sandbox.baseURL)
            seed: 3
            workload: {sessions: 40, arrival: "constant:20"}
            strategies: [fixed:200ms]
            clientTimeout: 20s
            thresholds: ["count(requests) > 0", "p99(detection_lag) < 1ms"]
            """.write(to: suite, atomically: true, encoding: .utf8)
            let generated = try CLI.run(["kubernetes", "--suite", suite.path, "--shards", "4", "--image", "local/pollbench:test", "--run-id", "standin"])
            #expect(generated.status == 0, "\(generated.stderr)")
            let command = try Self.podCommand(generated.stdout, volume: volume)
            #expect(command.prefix(6) == ["pollbench", "run", "--suite", suite.path, "--shards", "4"])
            // Four pods at once, as parallelism 4 runs them.
            let pods = try (0..<4).map { index -> Process in
                let pod = Process()
                pod.executableURL = CLI.binary
                pod.arguments = command.dropFirst().map { $0.replacingOccurrences(of: "$(JOB_COMPLETION_INDEX)", with: String(index)) }
                pod.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("POLLBENCH_") }.merging(environment) { $1 }.merging(["JOB_COMPLETION_INDEX": String(index)]) { $1 }
                pod.standardOutput = FileHandle.nullDevice
                pod.standardError = FileHandle.nullDevice
                try pod.run()
                return pod
            }
            for pod in pods { pod.waitUntilExit() }
            #expect(pods.allSatisfy { $0.terminationStatus == 0 })
            let shardDirectories = try (0..<4).map { index -> String in
                let folder = volume.appendingPathComponent("standin/shard-\(index)")
                return folder.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first)).path
            }
            let merged = volume.appendingPathComponent("standin/merged")
            let merge = try CLI.run(["merge"] + shardDirectories + ["--output", merged.path])
            #expect(merge.status == 1, "\(merge.stdout)\(merge.stderr)")
            #expect(merge.stdout.contains("merged from 4 of 4 shards"))
            let record = try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: merged.appendingPathComponent("summary.json")))
            let strategy = try #require(record.strategies.first)
            // Judged once, on the merged run: the impossible threshold fails there (exit 1), though no shard failed its pod.
            #expect(strategy.sessions == 40 && record.thresholds.map(\.passed) == [true, false])
            // The client's counts, summed over the shards, against the sandbox's own.
            let transport = try CurlTransport()
            defer { transport.shutdown() }
            let answer = try await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(sandbox.port)/admin/stats")).get()
            let stats = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
            let truth = try #require(stats["responses"] as? [String: [String: Int]])
            for endpoint in ["create", "status", "userinfo", "evidence"] {
                #expect(strategy.responses[endpoint] == truth[endpoint], "\(endpoint): client \(strategy.responses[endpoint] ?? [:]), sandbox \(truth[endpoint] ?? [:])")
            }
            #expect(stats["created"] as? Int == 40)
            // The merged p99 is the merged histogram's: the .hgrm the merge wrote says the same.
            let hgrm = try #require(HgrmReader(String(contentsOf: merged.appendingPathComponent("fixed-200ms-detection-lag.hgrm"), encoding: .utf8)))
            let p99 = try #require(strategy.detectionLag.p99)
            #expect(hgrm.totalCount == strategy.detectionLag.count && abs((hgrm.value(atPercentile: 99) ?? -1) - p99) <= p99 * 0.001 + 0.001)
        }
    }
}
