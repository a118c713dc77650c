import Foundation

/// Maps a data interval onto a pixel interval, linearly or on a base-10 log axis.
public struct Scale: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case linear, log10 }

    public let kind: Kind
    public let domain: ClosedRange<Double>
    public let range: ClosedRange<Double>
    /// Whether the range runs backwards (a y axis: larger values higher up, smaller pixel numbers).
    public let inverted: Bool

    /// A scale; a log scale needs a positive domain.
    public init(_ kind: Kind, domain: ClosedRange<Double>, range: ClosedRange<Double>, inverted: Bool = false) {
        self.kind = kind
        let low = kind == .log10 ? max(domain.lowerBound, 1e-9) : domain.lowerBound
        self.domain = low < domain.upperBound ? low...domain.upperBound : low...(low + 1)
        self.range = range
        self.inverted = inverted
    }

    private func transform(_ value: Double) -> Double { kind == .log10 ? log10(max(value, 1e-9)) : value }

    /// The pixel for `value`, clamped to the range.
    public func callAsFunction(_ value: Double) -> Double {
        let lo = transform(domain.lowerBound), hi = transform(domain.upperBound)
        let fraction = min(1, max(0, (transform(value) - lo) / (hi - lo)))
        let span = range.upperBound - range.lowerBound
        return inverted ? range.upperBound - fraction * span : range.lowerBound + fraction * span
    }
}

/// Round-numbered tick positions.
public enum Ticks {
    /// About `count` ticks at 1, 2 or 5 × 10ⁿ steps covering `domain`.
    public static func linear(_ domain: ClosedRange<Double>, count: Int = 5) -> [Double] {
        let span = domain.upperBound - domain.lowerBound
        guard span > 0, count > 0 else { return [domain.lowerBound] }
        let rough = span / Double(count)
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let first = ceil(domain.lowerBound / step) * step
        // Rounded to 12 significant digits, so 3 × 0.2 is 0.6 and not 0.6000000000000001.
        return stride(from: first, through: domain.upperBound + step * 1e-9, by: step).map { Double(String(format: "%.12g", ($0 / step).rounded() * step)) ?? $0 }
    }

    /// The largest value of a "nice" axis that covers `value`: 1, 2 or 5 × 10ⁿ.
    public static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= value } ?? 10 * magnitude
    }

    /// HdrHistogram's percentile axis: x = 1/(1−p) at 50 %, 90 %, 99 %, 99.9 %, 99.99 %.
    public static let percentiles: [(x: Double, label: String)] = [(2, "50%"), (10, "90%"), (100, "99%"), (1_000, "99.9%"), (10_000, "99.99%")]
}
