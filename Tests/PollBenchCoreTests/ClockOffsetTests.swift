import Testing
@testable import PollBenchCore

@Suite("The offset of a remote service's clock")
struct ClockOffsetTests {
    /// A create sent at `sent` and answered at `received` (client µs), stamped `created` (service ms).
    static func create(sent: Int64, received: Int64, created: Int64) -> SessionResult {
        SessionResult(
            key: "k", providerID: "bankidse", verificationID: nil, outcome: .completed, polls: 1, createSentMicros: sent, terminalSeenMicros: nil,
            serviceTerminalMillis: nil, serviceCreatedMillis: created, createReceivedMicros: received
        )
    }

    /// The creates' bounds, as the run's end collects them from its sessions.
    static func offset(_ sessions: [SessionResult], exact: Bool = false) -> ClockOffset? {
        RunRecordBuilder.clockOffset(sessions.compactMap { session in session.clockOffsetBounds.map { (session.createSentMicros, $0) } }, exact: exact)
    }

    @Test("clock offset: every create's bounds, widened by 500 ppm of drift, intersected, createdAt's millisecond included; disjoint bounds are clocks at different rates")
    func clockOffsetBounds() throws {
        // The service runs 7,500.3 ms ahead. Create A: sent at 1,000,000 µs, answered 4 ms later, stamped at
        // 1,002,000 µs client time, so createdAt = 1,002 + 7,500.3 → 8,502 ms (rounded down). Create B: 1 ms round
        // trip, stamped at 2,000,500 µs → 9,500 ms.
        let a = Self.create(sent: 1_000_000, received: 1_004_000, created: 8_502)
        let b = Self.create(sent: 2_000_000, received: 2_001_000, created: 9_500)
        let bounds = try #require(a.clockOffsetBounds)
        #expect(bounds.lowerBound == 8_502_000 - 1_004_000 && bounds.upperBound == 8_502_000 + 999 - 1_000_000)
        let offset = try #require(Self.offset([a, b]))
        // A allows 7,498.0…7,502.999 ms, B 7,499.0…7,500.999 ms widened by 500 µs (500 ppm of the 1 s since A):
        // together 7,498.5…7,501.499 ms, middle 7,500.0 ± 1.5 ms.
        #expect(abs(offset.offsetMillis - 7_499.9995) < 1e-9 && abs(offset.uncertaintyMillis - 1.4995) < 1e-9)
        #expect(abs(offset.offsetMillis - 7_500.3) <= offset.uncertaintyMillis && offset.rateRatio == nil)
        // A clock that jumped 9.5 s between the creates: no offset fits both; reported as another rate, with
        // the narrower create's bounds.
        let stepped = Self.create(sent: 3_000_000, received: 3_001_000, created: 20_000)
        let disjoint = try #require(Self.offset([a, stepped]))
        #expect(abs(disjoint.offsetMillis - 16_999.9995) < 1e-9 && disjoint.rateRatio != nil)
        #expect(Self.offset([a, b], exact: true) == ClockOffset(offsetMillis: 0, uncertaintyMillis: 0, exact: true))
    }

    @Test("a service clock at twice the client's rate is measured as such, and one 300 ppm fast is not", arguments: [(2.0, true), (1.0003, false)])
    func clockRate(rate: Double, mismatched: Bool) throws {
        // Creates a second apart for a minute, 2 ms round trips, stamped half way on the service's clock.
        let creates = (1...60).map { second in
            let sent = Int64(second) * 1_000_000
            return Self.create(sent: sent, received: sent + 2_000, created: Int64((Double(sent + 1_000) * rate / 1_000).rounded(.down)) + 5_000)
        }
        let offset = try #require(Self.offset(creates))
        if mismatched {
            #expect(abs(try #require(offset.rateRatio) - rate) < 0.001)
        } else {
            #expect(offset.rateRatio == nil)
        }
    }
}
