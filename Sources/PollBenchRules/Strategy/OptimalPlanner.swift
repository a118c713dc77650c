import Foundation

/// Plans `optimal` schedules: the poll times that spend the fewest polls per session for a bound on p99
/// detection lag, given when each provider's users end their sessions (the run's user model), the
/// workload's provider mix, the client timeout and the sessions' time to live.
///
/// The method (optimal inspection schedules, as in Barlow and Proschan): on a grid of `bound / k` (about
/// 250 ms), a session whose end falls between two polls is detected at the second; a poll costs one
/// request for every session still open at the poll before it. For a price λ on each session detected
/// later than the bound, the cheapest schedule of every provider is a shortest path over the grid
/// (O(n²) per provider, exact on the grid); λ is found by bisection so that few enough of the sessions
/// that see their end are over the bound: for a run of `sessions`, few enough that its measured p99
/// stays within the bound with 95 % confidence (``overBoundAllowance(detected:)``); 1 % for an unbounded
/// stream of sessions. Polls go on to the client timeout, never more than
/// ``tailGapMillis`` apart (the cap of the usual backoffs), so every end before it is seen. Redirect
/// flows read the status when the browser returns: one poll, no lag.
public struct OptimalPlanner: Sendable {
    /// One provider of the mix, as the planner needs it.
    package struct Population: Sendable {
        var id: String
        var weight: Double
        var redirect: Bool
        var behaviour: UserBehaviour
    }

    let populations: [Population]
    /// The last model ms after the create's answer a poll may be due (a second inside the client timeout,
    /// which counts from the create's sending).
    public let horizonMillis: Int64
    /// Model ms after which an open session expires.
    public let ttlMillis: Int64

    /// Sessions per strategy the plan is for (nil: an unbounded stream), which sets how much of the 1 %
    /// a p99 leaves the plan may use.
    public let sessions: Int?
    /// The grid's target step (model ms).
    static let gridTargetMillis = 250.0
    /// The longest wait between polls (unless the bound is longer): however few users are left, an end
    /// is seen within it, as the usual backoffs' cap of 30 s has it.
    static let tailGapMillis = 30_000.0

    package init(populations: [Population], clientTimeoutMillis: Int64, ttlMillis: Int64, sessions: Int? = nil) {
        self.populations = populations
        self.sessions = sessions
        horizonMillis = max(1_000, clientTimeoutMillis - 1_000)
        self.ttlMillis = ttlMillis
    }

    /// The mix's providers with their users.
    package static func populations(_ mix: [(id: String, weight: Double)], _ providers: [String: Provider]) -> [Population] {
        mix.compactMap { entry in
            providers[entry.id].map { Population(id: $0.id, weight: entry.weight, redirect: $0.flowType == .redirect, behaviour: $0.behaviour) }
        }
    }

    /// The plan for `goal`.
    public func plan(_ goal: OptimalGoal) -> OptimalPlan {
        switch goal {
        case .p99Lag(let millis):
            return plan(boundMillis: millis)
        case .meanPolls(let budget):
            // The expected polls fall as the bound widens: the smallest bound within the budget, to 50 ms.
            var low: Int64 = 250, high = max(250, horizonMillis)
            var best = plan(boundMillis: high)
            guard best.expectedPolls <= budget else { return best }
            while high - low > 50 {
                let middle = (low + high) / 2
                let candidate = plan(boundMillis: middle)
                if candidate.expectedPolls <= budget { best = candidate; high = middle } else { low = middle }
            }
            return best
        }
    }

    /// The cheapest plan whose p99 detection lag is within `boundMillis`.
    func plan(boundMillis: Int64) -> OptimalPlan {
        let steps = max(1, Int((Double(boundMillis) / Self.gridTargetMillis).rounded()))
        let grid = Double(boundMillis) / Double(steps)
        let count = Int(Double(horizonMillis) / grid) + 1
        let ends = populations.map { ended($0, grid: grid, count: count) }
        let maxGap = max(steps, Int(Self.tailGapMillis / grid))
        let total = populations.reduce(0) { $0 + $1.weight }
        let polled = populations.indices.filter { !populations[$0].redirect }
        // Redirect flows: one read when the user comes back, on time.
        var detected = 0.0, redirectPolls = 0.0
        for (population, end) in zip(populations, ends) {
            redirectPolls += population.redirect ? population.weight * end.returning : 0
            detected += population.weight * (population.redirect ? end.returning : end.cumulative[count - 1])
        }
        let allowance = Self.overBoundAllowance(detected: sessions.map { Double($0) * detected / total }) * detected
        func solveAll(_ lambda: Double) -> [Solution] {
            polled.map { Self.solve(ends[$0].cumulative, lambda: lambda, lagSteps: steps, maxGapSteps: maxGap) }
        }
        func over(_ solutions: [Solution]) -> Double {
            zip(polled, solutions).reduce(0) { $0 + populations[$1.0].weight * $1.1.over }
        }
        // The cheapest price that keeps the sessions over the bound within the allowance.
        var low = 1e-3, high = 1e8
        var solutions = solveAll(high)
        for _ in 0..<36 {
            let middle = (low * high).squareRoot()
            let candidate = solveAll(middle)
            if over(candidate) <= allowance { high = middle; solutions = candidate } else { low = middle }
        }
        var rows = populations.map { OptimalPlan.Row(id: $0.id, weight: $0.weight / total, redirect: $0.redirect, pollMillis: [], expectedPolls: 0) }
        var polls = redirectPolls
        for (index, solution) in zip(polled, solutions) {
            rows[index].pollMillis = solution.steps.map { Int64((Double($0) * grid).rounded()) }
            rows[index].expectedPolls = solution.polls
            polls += populations[index].weight * solution.polls
        }
        for index in populations.indices where populations[index].redirect { rows[index].expectedPolls = ends[index].returning }
        // A provider outside the mix: the polled providers' mixture, at the same price.
        let mixtureWeights = polled.isEmpty ? Array(populations.indices) : polled
        let weight = mixtureWeights.reduce(0) { $0 + populations[$1].weight }
        let mixture = (0..<count).map { i in mixtureWeights.reduce(0) { $0 + populations[$1].weight * ends[$1].cumulative[i] } / max(weight, .leastNonzeroMagnitude) }
        let pooledSolution = Self.solve(mixture, lambda: high, lagSteps: steps, maxGapSteps: maxGap)
        let pooled = OptimalPlan.Row(
            id: "*", weight: 1, redirect: false, pollMillis: pooledSolution.steps.map { Int64((Double($0) * grid).rounded()) }, expectedPolls: pooledSolution.polls
        )
        let fixed = zip(populations, ends).reduce(0) { sum, pair in
            sum + pair.0.weight * (pair.0.redirect ? pair.1.returning : Self.fixedPolls(pair.1.cumulative, every: steps))
        }
        return OptimalPlan(
            lagBoundMillis: boundMillis, gridMillis: grid, expectedPolls: polls / total, overBoundShare: detected > 0 ? over(solutions) / detected : 0,
            fixedPolls: fixed / total, providers: rows, pooled: pooled
        )
    }

    /// The share of `detected` sessions (those that see their end; nil: unboundedly many) that may be over
    /// the bound: the largest q for which a run's count over it, Binomial(detected, q), stays within the
    /// floor(1 %) a measured p99 allows with probability 0.95. 0.29 % at 280 sessions, 0.80 % at 4,700.
    static func overBoundAllowance(detected: Double?) -> Double {
        guard let detected, detected >= 1 else { return 0.01 }
        let count = Int(detected.rounded()), allowed = Int((Double(count) * 0.01).rounded(.down))
        func confidence(_ q: Double) -> Double {  // P(Binomial(count, q) ≤ allowed)
            if count > 2_000 {
                let mean = Double(count) * q, deviation = (mean * (1 - q)).squareRoot()
                return NormalDistribution.cdf((Double(allowed) + 0.5 - mean) / max(deviation, .leastNonzeroMagnitude))
            }
            var sum = 0.0
            for k in 0...allowed {
                let logTerm = lgamma(Double(count + 1)) - lgamma(Double(k + 1)) - lgamma(Double(count - k + 1)) + Double(k) * log(q) + Double(count - k) * log1p(-q)
                sum += exp(logTerm)
            }
            return sum
        }
        var low = 0.0, high = 0.01
        for _ in 0..<40 {
            let middle = (low + high) / 2
            if confidence(middle) >= 0.95 { low = middle } else { high = middle }
        }
        return low
    }

    /// A population's ends on the grid: P(the session has ended by point i), expiry included, and the
    /// share of sessions whose user acts and ends before expiry and the horizon (a redirect flow's
    /// returning users, whose status is read once each).
    private func ended(_ population: Population, grid: Double, count: Int) -> (cumulative: [Double], returning: Double) {
        let user = population.behaviour.outcomeDistribution(grid: grid / 1_000, count: count)
        let acting = population.behaviour.acting
        let cumulative = user.enumerated().map { i, p in Double(i) * grid >= Double(ttlMillis) ? 1 : acting * p }
        let lastBeforeExpiry = min(Double(ttlMillis) - 1, Double(count - 1) * grid)
        return (cumulative, acting * user[max(0, Int(lastBeforeExpiry / grid))])
    }

    struct Solution {
        /// Poll times, in grid steps.
        var steps: [Int]
        var polls: Double
        /// The share of the population detected over the bound, or not at all.
        var over: Double
    }

    /// The cheapest schedule at price `lambda` for `ended` (P(ended by grid point i)): polls cost the
    /// share still open at the poll before; a session ending more than `lagSteps` before its detecting
    /// poll costs `lambda`. Polls are at most `maxGapSteps` apart, and the last is at the grid's end, so
    /// that every end before the client gives up is seen.
    static func solve(_ ended: [Double], lambda: Double, lagSteps: Int, maxGapSteps: Int) -> Solution {
        let last = ended.count - 1
        var cost = [Double](repeating: 0, count: ended.count), next = [Int](repeating: -1, count: ended.count)
        ended.withUnsafeBufferPointer { d in
            for i in stride(from: last, through: 0, by: -1) {
                let open = 1 - d[i]
                var best = i == last ? 0 : Double.infinity, choice = -1
                var j = i + 1
                while j <= min(last, i + maxGapSteps) {
                    let cut = j - lagSteps
                    let candidate = open + (cut > i ? lambda * (d[cut] - d[i]) : 0) + cost[j]
                    if candidate < best { best = candidate; choice = j }
                    j += 1
                }
                cost[i] = best
                next[i] = choice
            }
        }
        var steps: [Int] = [], polls = 0.0, over = 0.0, at = 0
        while next[at] >= 0 {
            let poll = next[at]
            polls += 1 - ended[at]
            if poll - lagSteps > at { over += ended[poll - lagSteps] - ended[at] }
            steps.append(poll)
            at = poll
        }
        return Solution(steps: steps, polls: polls, over: over)
    }

    /// Expected polls of a fixed interval of `every` grid steps.
    static func fixedPolls(_ ended: [Double], every: Int) -> Double {
        stride(from: every, to: ended.count, by: every).reduce(0) { $0 + 1 - ended[$1 - every] }
    }
}

extension UserBehaviour {
    /// The share of users who end the session themselves (the rest abandon it).
    var acting: Double { min(1, completed + failed + cancelled) }
}
