import PollBenchRules
import Testing

@Suite("Retry-After and HTTP-date parsing")
struct RetryAfterTests {
    @Test("delay-seconds form", arguments: [("0", Int64(0)), ("7", 7), (" 120 ", 120), ("86400", 86_400)])
    func seconds(value: String, expected: Int64) {
        #expect(RetryAfter(headerValue: value) == .seconds(expected))
    }

    @Test("the three HTTP-date forms name the same instant")
    func dateForms() {
        let expected = RetryAfter.date(epochSeconds: 784_111_777)  // 1994-11-06T08:49:37Z
        #expect(RetryAfter(headerValue: "Sun, 06 Nov 1994 08:49:37 GMT") == expected)
        #expect(RetryAfter(headerValue: "Sunday, 06-Nov-94 08:49:37 GMT") == expected)
        #expect(RetryAfter(headerValue: "Sun Nov  6 08:49:37 1994") == expected)
    }

    @Test("dates across leap years and two-digit years", arguments: [
        ("Thu, 29 Feb 2024 23:59:59 GMT", Int64(1_709_251_199)),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ("Wednesday, 01-Jan-31 00:00:00 GMT", 1_924_992_000),
        ("Wed, 25 Nov 2026 15:00:00 GMT", 1_795_618_800),
    ])
    func dates(value: String, epoch: Int64) {
        #expect(HTTPDate.epochSeconds(value) == epoch)
    }

    @Test("malformed values are rejected", arguments: [
        "", "-1", "soon", "1.5", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
    ])
    func malformed(value: String) {
        #expect(RetryAfter(headerValue: value) == nil)
    }

    @Test("delay from a date is measured from the given clock and never negative")
    func delay() {
        let retry = RetryAfter.date(epochSeconds: 1_000)
        #expect(retry.delaySeconds(nowEpochSeconds: 990.5) == 9.5)
        #expect(retry.delaySeconds(nowEpochSeconds: 2_000) == 0)
        #expect(RetryAfter.seconds(3).delaySeconds(nowEpochSeconds: 12_345) == 3)
    }
}
