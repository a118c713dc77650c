import Foundation

/// A log-normal distribution set by its median and 95th percentile, the way people describe delays.
public struct LogNormal: Sendable, Equatable, Codable {
    /// The median.
    public var median: Double
    /// The 95th percentile; at least the median.
    public var p95: Double

    /// Creates the distribution.
    public init(median: Double, p95: Double) {
        self.median = median
        self.p95 = p95
    }

    /// The distribution through a median and a 99th percentile (2.326 σ above it on the log scale).
    public init(median: Double, p99: Double) {
        let sigma = median > 0 && p99 > median ? log(p99 / median) / 2.326_347_874_040_840_8 : 0
        self.init(median: median, p95: median * exp(1.644_853_626_951_472_2 * sigma))
    }

    /// The log's standard deviation: the 95th percentile is 1.645 σ above the median on the log scale.
    var sigma: Double { median > 0 && p95 > median ? log(p95 / median) / 1.644_853_626_951_472_2 : 0 }

    /// P(X ≤ x): a point mass at the median when σ is 0.
    public func cdf(_ x: Double) -> Double {
        guard x > 0 else { return 0 }
        let sigma = sigma
        guard sigma > 0 else { return x >= median ? 1 : 0 }
        return 0.5 * erfc(-log(x / median) / (sigma * 2.0.squareRoot()))
    }

    /// One sample, drawn with the Box-Muller transform.
    public func sample(_ random: inout SplitMix64) -> Double {
        let u1 = max(random.nextUnit(), .leastNonzeroMagnitude)
        let u2 = random.nextUnit()
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        return median * exp(sigma * normal)
    }
}
