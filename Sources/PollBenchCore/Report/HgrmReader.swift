/// Reads HdrHistogram percentile-distribution files (`.hgrm`), as ours and HdrHistogram's own tools write them.
public struct HgrmReader: Sendable, Equatable {
    /// One row: the value at a percentile (a fraction 0...1) and the count up to it.
    public struct Row: Sendable, Equatable {
        public var value: Double
        public var percentile: Double
        public var totalCount: UInt64
    }

    public let rows: [Row]
    /// The `Mean` and `Max` of the footer.
    public let mean: Double?
    public let max: Double?

    /// Parses the text; nil when it holds no percentile rows.
    public init?(_ text: String) {
        var rows: [Row] = []
        var mean: Double?, max: Double?
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: " ")
            if trimmed.hasPrefix("#[Mean") {
                mean = Self.footerValue(trimmed, "Mean")
                continue
            }
            if trimmed.hasPrefix("#[Max") {
                max = Self.footerValue(trimmed, "Max")
                continue
            }
            let fields = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, let value = Double(fields[0]), let percentile = Double(fields[1]), let count = UInt64(fields[2]) else { continue }
            rows.append(Row(value: value, percentile: percentile, totalCount: count))
        }
        guard !rows.isEmpty else { return nil }
        self.rows = rows
        self.mean = mean
        self.max = max
    }

    /// The value at `percentile` (0...100): the first row at or above it.
    public func value(atPercentile percentile: Double) -> Double? {
        rows.first { $0.percentile * 100 >= percentile - 1e-9 }?.value
    }

    /// The number of recorded values.
    public var totalCount: UInt64 { rows.last?.totalCount ?? 0 }

    private static func footerValue(_ line: String, _ name: String) -> Double? {
        guard let range = line.firstRange(of: name) else { return nil }
        let rest = line[range.upperBound...].drop { $0 == " " || $0 == "=" }
        return Double(rest.prefix { $0.isNumber || $0 == "." })
    }
}

extension StringProtocol {
    func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}
