/// Durations as people write them on a command line or in a suite: `250ms`, `3s`, `1.5s`, `2m`, `1h`.
/// Values are model milliseconds.
public enum DurationText {
    /// Milliseconds for `text`; nil when it is not a non-negative number followed by ms, s, m or h.
    public static func milliseconds(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "ms" also ends in "s": a number part ending in "m" belongs to the ms unit.
            guard !number.isEmpty, !number.hasSuffix("m"), let value = Double(number), value.isFinite, value >= 0 else { continue }
            let millis = (value * factor).rounded()
            return millis <= 1e15 ? Int64(millis) : nil
        }
        return nil
    }

    /// The shortest exact spelling of `millis`: `3s`, `250ms`, `1.5s`, `2m`.
    public static func format(_ millis: Int64) -> String {
        if millis % 3_600_000 == 0, millis > 0 { return "\(millis / 3_600_000)h" }
        if millis % 60_000 == 0, millis > 0 { return "\(millis / 60_000)m" }
        if millis % 1_000 == 0 { return "\(millis / 1_000)s" }
        if millis > 1_000, millis % 100 == 0 { return "\(Double(millis) / 1_000)s" }
        return "\(millis)ms"
    }
}
