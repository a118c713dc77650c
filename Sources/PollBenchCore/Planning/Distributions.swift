import Foundation
import PollBenchRules

/// Requests in a one-second window as a Poisson count: the peak second and the share over a capacity.
enum PoissonWindow {
    /// The `q` quantile of a Poisson count with this mean (normal approximation above a mean of 50).
    static func quantile(mean: Double, _ q: Double) -> Double {
        guard mean > 0 else { return 0 }
        if mean > 50 { return (mean + NormalDistribution.inverse(q) * mean.squareRoot()).rounded(.up) }
        var k = 0.0, term = exp(-mean), cumulative = term
        while cumulative < q {
            k += 1
            term *= mean / k
            cumulative += term
        }
        return k
    }

    /// E[max(0, X − capacity)] / E[X] for X Poisson with this mean: the share of requests over the capacity.
    static func overflowShare(mean: Double, capacity: Double) -> Double {
        guard mean > 0 else { return 0 }
        if mean > 50 {  // normal approximation: E[(X−c)+] = σφ(z) + (μ−c)(1−Φ(z)), z = (c−μ)/σ
            let sigma = mean.squareRoot(), z = (capacity - mean) / sigma
            let excess = sigma * NormalDistribution.density(z) + (mean - capacity) * (1 - NormalDistribution.cdf(z))
            return max(0, excess) / mean
        }
        var excess = 0.0, term = exp(-mean), k = 0.0
        while k < mean + 12 * mean.squareRoot() + 20 {
            if k > capacity { excess += (k - capacity) * term }
            k += 1
            term *= mean / k
        }
        return excess / mean
    }
}
