@testable import PollBenchRules
import Testing

@Suite("ISO 8601 with milliseconds, as the service writes its times")
struct ISO8601MillisTests {
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
}
