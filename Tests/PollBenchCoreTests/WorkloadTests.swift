@testable import PollBenchCore
@testable import PollBenchRules
import Testing

@Suite("Workload and response parsing")
struct WorkloadTests {
    @Test("constant arrivals are evenly spaced, with the provider mix drawn from the seed")
    func constant() {
        let slots = Workload(sessions: 100, arrival: .constant(perSecond: 4), providerMix: [("a", 3), ("b", 1)], seed: 1).slots()
        #expect(slots.map(\.arrivalMillis) == (0..<100).map { Int64($0) * 250 })
        let share = Double(slots.filter { $0.providerID == "a" }.count) / 100
        #expect(share > 0.6 && share < 0.9)
        #expect(slots == Workload(sessions: 100, arrival: .constant(perSecond: 4), providerMix: [("a", 3), ("b", 1)], seed: 1).slots())
    }

    @Test("Poisson arrivals average the rate")
    func poisson() {
        let slots = Workload(sessions: 5_000, arrival: .poisson(perSecond: 10), seed: 2).slots()
        let span = Double(slots.last?.arrivalMillis ?? 0) / 1_000
        #expect(abs(5_000 / span - 10) < 0.5)
        #expect(zip(slots, slots.dropFirst()).allSatisfy { ($0.arrivalMillis ?? 0) <= ($1.arrivalMillis ?? 0) })
    }

    @Test("a ramp starts slow and reaches the rate")
    func ramp() {
        let workload = Workload(sessions: 300, arrival: .constant(perSecond: 10), rampSeconds: 10, seed: 1)
        #expect(workload.rampedTime(arrivalsSoFar: 50, rate: 10) == 10)
        #expect(workload.rampedTime(arrivalsSoFar: 150, rate: 10) == 20)
        #expect(abs(workload.rampedTime(arrivalsSoFar: 12.5, rate: 10) - 5) < 1e-9)
    }

    @Test("arrival and mix syntax, with clear errors")
    func syntax() throws {
        #expect(try ArrivalModel(parsing: "poisson:2.5") == .poisson(perSecond: 2.5))
        #expect(try ArrivalModel(parsing: "closed:100") == .closed(concurrency: 100))
        #expect(throws: WorkloadError.self) { try ArrivalModel(parsing: "constant:-1") }
        #expect(throws: WorkloadError.self) { try ArrivalModel(parsing: "burst:5") }
        #expect(try Workload.parseMix("bankidse=2,mitid").map(\.weight) == [2, 1])
        #expect(throws: WorkloadError.self) { try Workload.parseMix("a=0") }
    }
}
