@testable import PollBenchRules
import Testing

@Suite("Model time, ISO 8601 and seeded sampling")
struct ModelTimeTests {
    @Test("ISO 8601 with milliseconds formats and parses back", arguments: [Int64(0), 1_795_618_800_123, 951_782_400_999, -86_400_000])
    func roundTrip(millis: Int64) {
        let text = ISO8601Millis.format(millis)
        #expect(text.count == 24)
        #expect(ISO8601Millis.parse(text) == millis)
    }

    @Test("known instants")
    func known() {
        #expect(ISO8601Millis.format(1_795_618_800_123) == "2026-11-25T15:00:00.123Z")
        #expect(ISO8601Millis.parse("2024-02-29T23:59:59Z") == 1_709_251_199_000)
        #expect(ISO8601Millis.parse("2024-02-29T23:59:59.5+00:00") == 1_709_251_199_500)
        #expect(ISO8601Millis.parse("2024-02-29T23:59:59.123456Z") == 1_709_251_199_123)
        #expect(ISO8601Millis.parse("2024-02-29 23:59:59Z") == nil)
        #expect(ISO8601Millis.parse("2024-13-01T00:00:00Z") == nil)
        #expect(ISO8601Millis.parse("2024-02-29T23:59:59+02:00") == nil)
    }

    @Test("log-normal samples hit the configured median and p95 within 5 %")
    func logNormal() {
        let distribution = LogNormal(median: 10, p95: 40)
        var random = SplitMix64(seed: 99)
        let samples = (0..<20_000).map { _ in distribution.sample(&random) }.sorted()
        #expect(abs(samples[10_000] - 10) / 10 < 0.05)
        #expect(abs(samples[19_000] - 40) / 40 < 0.05)
    }

    @Test("SplitMix64 is reproducible and keyed streams differ")
    func generator() {
        var a = SplitMix64(seed: 5, key: "x"), b = SplitMix64(seed: 5, key: "x"), c = SplitMix64(seed: 5, key: "y")
        let first = (0..<4).map { _ in a.next() }
        #expect(first == (0..<4).map { _ in b.next() })
        #expect(first != (0..<4).map { _ in c.next() })
        var unit = SplitMix64(seed: 1)
        #expect((0..<1_000).allSatisfy { _ in (0..<1).contains(unit.nextUnit()) })
    }
}
