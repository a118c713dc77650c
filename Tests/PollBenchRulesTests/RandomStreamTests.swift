@testable import PollBenchRules
import Testing

@Suite("Seeded random streams and the log-normal users draw from")
struct RandomStreamTests {
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
