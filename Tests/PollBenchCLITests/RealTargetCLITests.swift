import Foundation
import PollBenchCore
import Testing

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
            environment: Self.environment, arguments: ["--config", try Self.writeQuickConfig(in: output), "--clock-skew", "\(Double(skewMillis) / 1_000)s"]
        )
        defer { sandbox.kill() }
        let record = try Self.quickRun(sandbox.baseURL, in: output, name: "skew")
        let offset = try #require(record.clockOffset)
        #expect(!offset.exact)
        #expect(abs(offset.offsetMillis - Double(skewMillis)) <= offset.uncertaintyMillis, "offset \(offset.offsetMillis) ± \(offset.uncertaintyMillis) ms")
        #expect(offset.uncertaintyMillis < Double(abs(skewMillis)) / 2)  // the sign and size are known, not only bounded
        let fixed = try #require(record.strategies.first)
        #expect(fixed.outcomes["completed"] == 10 && fixed.detectionLagUnknown == 0 && fixed.detectionLag.count == 10)
        // Uncorrected, every lag would be 7.5 s too long (ahead) or clamped to zero (behind).
        #expect(fixed.detectionLag.max < Double(abs(skewMillis)) / 2 && fixed.detectionLag.max > 0)
    }
}
