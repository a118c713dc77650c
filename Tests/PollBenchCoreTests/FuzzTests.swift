import Foundation
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

/// Seeded generators of hostile inputs: mutations of valid samples (flips, inserts, deletes, cuts,
/// splices) and random strings over an alphabet of characters that parsers care about.
struct Fuzzer {
    var random: SplitMix64
    private static let alphabet = Array(":,{}[]\"\\ \n\t-+.%()<>=!#&*|0123456789eExsmhjmaxfulqdcorpt_/\u{0}\u{1}é🙂")

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    mutating func index(_ count: Int) -> Int { count == 0 ? 0 : Int(random.next() % UInt64(count)) }

    mutating func randomText(maxLength: Int) -> String {
        String((0..<index(maxLength + 1)).map { _ in Self.alphabet[index(Self.alphabet.count)] })
    }

    mutating func mutate(_ sample: String) -> String {
        var characters = Array(sample)
        for _ in 0...index(4) {
            switch index(5) {
            case 0 where !characters.isEmpty: characters[index(characters.count)] = Self.alphabet[index(Self.alphabet.count)]
            case 1: characters.insert(Self.alphabet[index(Self.alphabet.count)], at: index(characters.count + 1))
            case 2 where !characters.isEmpty: characters.remove(at: index(characters.count))
            case 3: characters = Array(characters.prefix(index(characters.count + 1)))
            default:
                let start = index(characters.count + 1)
                characters.insert(contentsOf: characters[start...].prefix(index(8)), at: index(characters.count + 1))
            }
        }
        return String(characters)
    }

    /// Half mutations of a sample, half random text.
    mutating func input(from samples: [String], maxLength: Int = 40) -> String {
        index(2) == 0 ? mutate(samples[index(samples.count)]) : randomText(maxLength: maxLength)
    }
}

@Suite("Fuzzing the parsers with generated and mutated input")
struct FuzzTests {
    @Test("strategy syntax: 20,000 inputs, nothing crashes, whatever parses round-trips")
    func strategies() {
        var fuzzer = Fuzzer(seed: 1)
        let samples = ["fixed:3s", "exp:1s,x2,max30s", "jitter:full,1s,30s", "jitter:decorrelated,250ms,1m", "grpc:1s,x1.6,j0.2,max2m"]
        var parsed = 0
        for _ in 0..<20_000 {
            let text = fuzzer.input(from: samples)
            guard let strategy = try? PollStrategy(parsing: text) else { continue }
            parsed += 1
            #expect((try? PollStrategy(parsing: strategy.name)) == strategy, "\(text) → \(strategy.name)")
        }
        #expect(parsed > 100)
    }

    @Test("threshold expressions and durations: 20,000 inputs, nothing crashes")
    func thresholds() {
        var fuzzer = Fuzzer(seed: 2)
        let samples = ["p99(detection_lag) < 4s", "mean(polls_per_session) <= 25", "count(http_429) == 0", "rate(errors) < 0.1%", "p50(latency_status_uncorrected) >= 1ms"]
        var accepted = 0
        for _ in 0..<20_000 {
            let text = fuzzer.input(from: samples)
            if let threshold = try? Threshold(parsing: text) {
                accepted += 1
                // No "nan" or "1e999" slips through as a limit, and what parsed reads back the same from its own expression.
                #expect(threshold.limit.isFinite && (try? Threshold(parsing: threshold.expression)) == threshold, "\(text)")
            }
            // What parses prints back to the same duration (a parser that misread units would not).
            if let millis = DurationText.milliseconds(text) { #expect(DurationText.milliseconds(DurationText.format(millis)) == millis, "\(text)") }
        }
        #expect(accepted > 100)
    }

    @Test("response bodies: 20,000 inputs; what JSONFields accepts, JSONSerialization reads as an object too")
    func responseBodies() throws {
        var fuzzer = Fuzzer(seed: 3)
        var configuration = SandboxConfiguration()
        configuration.clients = [SandboxConfiguration.Client(id: "FUZZ0001", secret: "fuzz")]
        let service = SandboxService(configuration: configuration, startMillis: VirtualRun.t0)
        let authorization = "Basic " + Data("FUZZ0001:fuzz".utf8).base64EncodedString()
        let created = service.handle(SandboxRequest(method: "POST", path: "/api/v1/verifications", authorization: authorization, body: Array(#"{"providerId":"mitid"}"#.utf8)), now: VirtualRun.t0)
        let samples = [
            String(decoding: created.body, as: UTF8.self),
            #"{"verificationId":"abc","status":"completed","verifiedAt":"2026-11-25T15:00:00.123Z","verifiedAttributes":{"sub":"x","n":[1,2.5e3,true,null]}}"#,
            #"{"type":"about:blank","status":429,"code":null,"detail":"slow down \u00e9"}"#,
        ]
        var accepted = 0
        for _ in 0..<20_000 {
            let body = Array(fuzzer.input(from: samples, maxLength: 80).utf8)
            guard let fields = JSONFields.strings(body) else { continue }
            accepted += 1
            let reference = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            #expect(reference != nil, "\(String(decoding: body, as: UTF8.self))")
            for (key, value) in fields { #expect(reference?[key] as? String == value) }
            _ = JSONFields.object(body, field: "flowDetails")
            _ = fields["verifiedAt"].flatMap(ISO8601Millis.parse)
        }
        #expect(accepted > 500)
    }

    @Test("Retry-After, HTTP dates and ISO 8601: 20,000 inputs, nothing crashes")
    func dates() {
        var fuzzer = Fuzzer(seed: 4)
        let samples = ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "120", "2026-11-25T15:00:00.123Z"]
        for _ in 0..<20_000 {
            let text = fuzzer.input(from: samples)
            // A later now never asks for a longer wait (seconds stay, a date comes nearer).
            if let retry = RetryAfter(headerValue: text) { #expect(retry.delaySeconds(nowEpochSeconds: 0) >= retry.delaySeconds(nowEpochSeconds: 1e9), "\(text)") }
            if let millis = ISO8601Millis.parse(text) { #expect(ISO8601Millis.parse(ISO8601Millis.format(millis)) == millis) }
        }
    }

    @Test("suite files: 10,000 mutated suites, each either reads or fails with file, line and problem")
    func suites() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Benchmarks/suites")
        let samples = try ["smoke", "release", "rate-limit", "capacity"].map { try String(contentsOf: folder.appendingPathComponent("\($0).yaml"), encoding: .utf8) }
        var fuzzer = Fuzzer(seed: 5)
        var failures = 0
        for _ in 0..<10_000 {
            let text = fuzzer.mutate(samples[fuzzer.index(samples.count)])
            do {
                _ = try SuiteReader.parse(text, file: "fuzz.yaml")
            } catch {
                failures += 1
                #expect(error.file == "fuzz.yaml" && !error.problem.isEmpty)
            }
        }
        #expect(failures > 1_000)
    }
}
