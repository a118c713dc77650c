/// Rates as people write them: `40` or `40/s`, `2400/min`, `50000/h`, `200000/day`. Values are per second.
public enum RateText {
    /// Per-second rate for `text`; nil when it is not a positive number with an optional `/s`, `/min`, `/h` or `/day`.
    public static func perSecond(_ text: String) -> Double? {
        let parts = text.trimmingSpaces().split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let value = Double(first), value > 0, value.isFinite else { return nil }
        let divisor: Double? = switch parts.count == 2 ? parts[1].lowercased() : "s" {
        case "s", "sec", "second": 1
        case "m", "min", "minute": 60
        case "h", "hour": 3_600
        case "d", "day": 86_400
        default: nil
        }
        return divisor.map { value / $0 }
    }
}
