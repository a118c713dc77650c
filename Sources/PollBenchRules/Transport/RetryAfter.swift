/// A parsed `Retry-After` header (RFC 9110 §10.2.3): either a delay in seconds or an HTTP-date.
public enum RetryAfter: Sendable, Equatable {
    /// Wait this many seconds.
    case seconds(Int64)
    /// Wait until this wall-clock time, in seconds since the Unix epoch.
    case date(epochSeconds: Int64)

    /// Parses a header value; nil when it is neither a non-negative integer nor an HTTP-date.
    public init?(headerValue: String) {
        let value = headerValue.trimmingSpaces()
        if let seconds = Int64(value), seconds >= 0 {
            self = .seconds(seconds)
        } else if let epoch = HTTPDate.epochSeconds(value) {
            self = .date(epochSeconds: epoch)
        } else {
            return nil
        }
    }

    /// How long to wait, in seconds, measured from `nowEpochSeconds` (the server's `Date` when known);
    /// never negative.
    public func delaySeconds(nowEpochSeconds: Double) -> Double {
        switch self {
        case .seconds(let seconds): Double(seconds)
        case .date(let epoch): max(0, Double(epoch) - nowEpochSeconds)
        }
    }
}

/// Parses the three HTTP-date forms of RFC 9110 §5.6.7 without Foundation's formatters.
public enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Seconds since the Unix epoch for an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
    /// an RFC 850 date (`Sunday, 06-Nov-94 08:49:37 GMT`) or an asctime date (`Sun Nov  6 08:49:37 1994`).
    public static func epochSeconds(_ text: String) -> Int64? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        switch fields.count {
        case 6 where fields[5] == "GMT":
            // IMF-fixdate: day-name, DD Mon YYYY HH:MM:SS GMT
            return assemble(day: fields[1], month: fields[2], year: fields[3], time: fields[4], twoDigitYear: false)
        case 4 where fields[3] == "GMT":
            // RFC 850: day-name, DD-Mon-YY HH:MM:SS GMT
            let parts = fields[1].split(separator: "-").map(String.init)
            guard parts.count == 3 else { return nil }
            return assemble(day: parts[0], month: parts[1], year: parts[2], time: fields[2], twoDigitYear: true)
        case 5:
            // asctime: day-name Mon D HH:MM:SS YYYY
            return assemble(day: fields[2], month: fields[1], year: fields[4], time: fields[3], twoDigitYear: false)
        default:
            return nil
        }
    }

    private static func assemble(day: String, month: String, year: String, time: String, twoDigitYear: Bool) -> Int64? {
        guard let d = Int64(day), (1...31).contains(d),
              let m = months.firstIndex(of: month.lowercased()),
              var y = Int64(year), year.count == (twoDigitYear ? 2 : 4)
        else { return nil }
        if twoDigitYear { y += y < 70 ? 2000 : 1900 }  // RFC 9110: a two-digit year more than 50 years ahead is in the past
        let clock = time.split(separator: ":").compactMap { Int64($0) }
        guard clock.count == 3, (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...60).contains(clock[2]) else { return nil }
        return CivilDate.daysFromEpoch(year: y, month: Int64(m + 1), day: d) * 86_400 + clock[0] * 3_600 + clock[1] * 60 + clock[2]
    }
}

/// Proleptic Gregorian calendar arithmetic (H. Hinnant's days-from-civil), UTC only.
public enum CivilDate {
    /// Days from 1970-01-01 to the given date.
    public static func daysFromEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension String {
    package func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" || last == "\n" { slice.removeLast() }
        return String(slice)
    }
}
