import Foundation
import PollBenchRules

/// Fits a user model to what runs saw of their sessions (`sessions.csv`): per provider, the outcomes'
/// shares and a log-normal time from creation to the user's outcome.
///
/// A session's end is known exactly when a document or the embedded sandbox's ground truth says when it
/// came; otherwise only between the last poll that found it open and the first that found it ended
/// (interval-censored). The fit is a censored log-normal maximum likelihood: exact ends add their
/// density, bracketed ends the probability of their interval. Log-normal because it is the family the
/// sandbox's users are drawn from and what people quote (a median and a p95), and because two
/// parameters fit well from a few hundred sessions where a non-parametric (Turnbull) estimate would need
/// many more for a stable tail; the fit is printed against the data (quantiles, Kolmogorov–Smirnov
/// distance) so that a shape it does not fit shows.
///
/// Sessions the client gave up on, or that expired, count as abandoned (a user who would have ended
/// after the client timeout looks the same). Errors and interrupted sessions are left out.
public struct UserModelFit: Sendable {
    /// One provider's fit.
    public struct Provider: Sendable, Equatable {
        public var id: String
        /// Sessions that count (created, and not interrupted).
        public var sessions: Int
        /// Ends known exactly, and known only between two polls.
        public var exact: Int
        public var bracketed: Int
        public var behaviour: UserBehaviour
        /// The data's quantiles (exact ends, and bracketed ones at their interval's middle), model seconds.
        public var dataMedian: Double
        public var dataP95: Double
        /// The largest distance between the data's distribution and the fit's.
        public var ksDistance: Double
    }

    /// The fits, by provider, in order of first appearance.
    public let providers: [Provider]
    /// Providers with sessions but no end to fit a time to.
    public let unfitted: [String]

    /// Fits every provider with sessions in `rows`.
    public init(rows: [SessionRow]) {
        var order: [String] = []
        var byProvider: [String: [SessionRow]] = [:]
        for row in rows where row.outcome != .error && row.outcome != .interrupted {
            if byProvider[row.provider] == nil { order.append(row.provider) }
            byProvider[row.provider, default: []].append(row)
        }
        var fitted: [Provider] = [], unfitted: [String] = []
        for id in order {
            if let fit = Self.fit(id: id, byProvider[id] ?? []) { fitted.append(fit) } else { unfitted.append(id) }
        }
        providers = fitted
        self.unfitted = unfitted
    }

    /// An end as the data knows it, in model seconds after creation.
    enum End: Equatable {
        case exact(Double)
        case between(Double, Double)

        /// Where the data's quantiles place it.
        var point: Double {
            switch self {
            case .exact(let value): value
            case .between(let low, let high): (low + high) / 2
            }
        }
    }

    static func fit(id: String, _ rows: [SessionRow]) -> Provider? {
        let count = Double(rows.count)
        func share(_ outcome: SessionOutcome) -> Double { Double(rows.filter { $0.outcome == outcome }.count) / count }
        let ends = rows.compactMap(end)
        guard !ends.isEmpty, let (mu, sigma) = maximumLikelihood(ends) else { return nil }
        let outcome = LogNormal(median: exp(mu), p95: exp(mu + 1.644_853_626_951_472_2 * sigma))
        let points = ends.map(\.point).sorted()
        func quantile(_ q: Double) -> Double { points[min(points.count - 1, Int(q * Double(points.count)))] }
        let ks = points.enumerated().reduce(0.0) { worst, pair in
            let fitted = outcome.cdf(pair.element)
            return max(worst, abs(fitted - Double(pair.offset) / Double(points.count)), abs(fitted - Double(pair.offset + 1) / Double(points.count)))
        }
        return Provider(
            id: id, sessions: rows.count, exact: ends.filter { if case .exact = $0 { true } else { false } }.count,
            bracketed: ends.filter { if case .between = $0 { true } else { false } }.count,
            behaviour: UserBehaviour(outcomeTime: outcome, completed: share(.completed), failed: share(.failed), cancelled: share(.cancelled)),
            dataMedian: quantile(0.5), dataP95: quantile(0.95), ksDistance: ks
        )
    }

    /// What a session says of its user's end: nothing for one the user did not end.
    static func end(_ row: SessionRow) -> End? {
        guard [.completed, .failed, .cancelled].contains(row.outcome) else { return nil }
        if let exact = row.endAfterMillis { return .exact(max(0.001, Double(exact) / 1_000)) }
        guard let seen = row.seenAfterMillis else { return nil }
        return .between(Double(row.openUntilMillis ?? 0) / 1_000, Double(seen) / 1_000)
    }

    /// The log-normal (µ, σ of the log) that maximises the likelihood of `ends`: closed form when every
    /// end is exact, else Nelder–Mead from the midpoints' fit.
    static func maximumLikelihood(_ ends: [End]) -> (Double, Double)? {
        let logs = ends.map { log(max($0.point, 0.001)) }
        let mean = logs.reduce(0, +) / Double(logs.count)
        let deviation = max(1e-3, (logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(logs.count)).squareRoot())
        guard ends.contains(where: { if case .between = $0 { true } else { false } }) else { return (mean, deviation) }
        func negativeLogLikelihood(_ p: [Double]) -> Double {
            let mu = p[0], sigma = exp(p[1])
            var total = 0.0
            for end in ends {
                switch end {
                case .exact(let value):
                    let z = (log(value) - mu) / sigma
                    total -= -0.5 * z * z - log(sigma * value)
                case .between(let low, let high):
                    let upper = NormalDistribution.cdf((log(high) - mu) / sigma)
                    let lower = low > 0 ? NormalDistribution.cdf((log(low) - mu) / sigma) : 0
                    total -= log(max(upper - lower, 1e-300))
                }
            }
            return total
        }
        let best = NelderMead.minimize(negativeLogLikelihood, from: [mean, log(deviation)], step: [0.2, 0.2])
        return (best[0], exp(best[1]))
    }
}

/// The Nelder–Mead simplex method, for the few parameters of a likelihood.
enum NelderMead {
    static func minimize(_ f: ([Double]) -> Double, from start: [Double], step: [Double], iterations: Int = 400) -> [Double] {
        var simplex = [start] + start.indices.map { i in start.enumerated().map { $0.offset == i ? $0.element + step[i] : $0.element } }
        var values = simplex.map(f)
        for _ in 0..<iterations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            if abs(values[values.count - 1] - values[0]) < 1e-10 { break }
            let worst = simplex.count - 1
            let centroid = start.indices.map { i in simplex.dropLast().reduce(0) { $0 + $1[i] } / Double(worst) }
            func toward(_ t: Double) -> [Double] { start.indices.map { centroid[$0] + t * (simplex[worst][$0] - centroid[$0]) } }
            let reflected = toward(-1), reflectedValue = f(reflected)
            if reflectedValue < values[0] {
                let expanded = toward(-2), expandedValue = f(expanded)
                (simplex[worst], values[worst]) = expandedValue < reflectedValue ? (expanded, expandedValue) : (reflected, reflectedValue)
            } else if reflectedValue < values[worst - 1] {
                (simplex[worst], values[worst]) = (reflected, reflectedValue)
            } else {
                let contracted = toward(0.5), contractedValue = f(contracted)
                if contractedValue < values[worst] {
                    (simplex[worst], values[worst]) = (contracted, contractedValue)
                } else {
                    for i in 1..<simplex.count {
                        simplex[i] = start.indices.map { simplex[0][$0] + 0.5 * (simplex[i][$0] - simplex[0][$0]) }
                        values[i] = f(simplex[i])
                    }
                }
            }
        }
        return simplex[values.indices.min { values[$0] < values[$1] } ?? 0]
    }
}
