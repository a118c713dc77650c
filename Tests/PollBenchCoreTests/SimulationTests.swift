import Testing
@testable import PollBenchCore

@Suite("Simulation in virtual time")
struct SimulationTests {
    func suite(seed: UInt64 = 1, mixed: Bool = false) throws -> Suite {
        var suite = Suite(name: "sim", description: "", workload: Workload(sessions: 120, arrival: .poisson(perSecond: 3), seed: seed))
        suite.mixed = mixed
        suite.rateLimit = nil  // all three strategies at once would spend the default budget: these tests are about the runner
        suite.checks = [Suite.Check(strategy: nil, threshold: try Threshold(parsing: "count(error) == 0"))]
        return suite
    }

    @Test("the same seed gives the same record, bit for bit; another seed does not")
    func determinism() throws {
        let first = Simulation(suite: try suite(), roundTrip: .constant(.milliseconds(2)), name: "a").run().record
        let second = Simulation(suite: try suite(), roundTrip: .constant(.milliseconds(2)), name: "a").run().record
        #expect(first.strategies == second.strategies)
        #expect(first.strategies != Simulation(suite: try suite(seed: 2), roundTrip: .constant(.milliseconds(2)), name: "a").run().record.strategies)
    }

    @Test("a simulated run is marked, checks its counts against the simulated service and evaluates thresholds", arguments: [false, true])
    func record(mixed: Bool) throws {
        let (record, results) = Simulation(suite: try suite(mixed: mixed), roundTrip: .constant(.milliseconds(2)), name: "sim").run()
        #expect(record.run.simulated)
        #expect(record.groundTruthChecked && record.groundTruthDifferences.isEmpty)
        #expect(record.strategies.count == 3 && results.count == 3)
        #expect(record.strategies.allSatisfy { $0.sessions == 120 && $0.outcomes.values.reduce(0, +) == 120 })
        #expect(record.thresholds.count == 3 && record.thresholdsPassed)
    }

    @Test("connect-v1: every flow (QR, push, redirect) ends as it does against api-v1; its waiting states are known, its problems counted by title")
    func connectV1() throws {
        var newer = try suite()
        newer.sandbox.api = .connectV1
        let v1 = Simulation(suite: try suite(), roundTrip: .constant(.milliseconds(2)), name: "v1").run().record
        let connect = Simulation(suite: newer, roundTrip: .constant(.milliseconds(2)), name: "c1").run().record
        #expect(connect.groundTruthChecked && connect.groundTruthDifferences.isEmpty)
        for (a, b) in zip(v1.strategies, connect.strategies) {
            #expect(a.outcomes == b.outcomes && a.requests == b.requests && a.detectionLag == b.detectionLag && a.pollsPerSession == b.pollsPerSession)
            #expect(b.unknownStatuses.isEmpty && b.responses["authorize"] == a.responses["authorize"] && (b.responses["authorize"]?.isEmpty == false))
            #expect(Set(b.apiErrorCodes.keys).isSubset(of: ["Verification not completed", "Verification not found", "Too many requests", "Invalid status transition"]))
        }
    }

    @Test("a fitted round-trip model draws from the measured distribution, reproducibly")
    func fitted() {
        var histogram = Histograms.micros()
        for micros in 1...1_000 { _ = histogram.record(UInt64(micros * 10)) }  // 10 µs … 10 ms, uniform
        var model = RoundTrips.fitted(histogram, seed: 4)
        var again = RoundTrips.fitted(histogram, seed: 4)
        let draws = (0..<5_000).map { _ in model.next() }
        #expect(draws == (0..<5_000).map { _ in again.next() })
        #expect(draws.allSatisfy { (9_000...10_100_000).contains($0) })
        let mean = Double(draws.reduce(0, +)) / Double(draws.count)
        #expect(abs(mean - 5_005_000) < 250_000)
        #expect(abs(Double(model.medianNanos) - 5_000_000) < 100_000)
    }
}
