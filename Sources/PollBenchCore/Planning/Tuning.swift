import Foundation
import PollBenchRules

/// One strategy's figures on a suite's workload, from a ``FastSimulation``.
public struct TuningPoint: Sendable, Equatable, Codable {
    public var strategy: String
    public var sessions: Int
    public var requestsPerSession: Double
    public var pollsPerSession: Double
    /// Detection lag percentiles, model ms; nil when no session saw a terminal status.
    public var lagP50: Double?
    public var lagP90: Double?
    public var lagP99: Double?
    /// Share of requests answered 429.
    public var rateLimitedShare: Double
    /// Sessions whose user's outcome the client never saw: it gave up first, or found the session
    /// expired (whether a poll lands in the instant between expiry and the client's own timeout is luck).
    public var unfinished: Int
    /// Requests per model second the strategy offers at the workload's arrival rate.
    public var offeredPerSecond: Double
    /// The 99th percentile of requests in one model second.
    public var peakPerSecond: Double
    /// On the Pareto frontier of requests per session against p99 lag.
    public var onFrontier = false
    /// Offers more requests per second than the rate limit allows.
    public var overLimit = false
    /// Its p99 lag is within the target.
    public var meetsTarget = false

    /// The figures of one simulated strategy; `arrivalPerSecond` is the workload's open arrival rate (nil: closed).
    public init(_ result: StrategyResult, arrivalPerSecond: Double?) {
        let summary = RunRecordBuilder.summary(result.strategy, result.recorder, lagUnknown: 0)
        strategy = summary.name
        sessions = summary.sessions
        requestsPerSession = summary.requestsPerSession
        pollsPerSession = summary.pollsPerSession.mean ?? 0
        lagP50 = summary.detectionLag.p50
        lagP90 = summary.detectionLag.p90
        lagP99 = summary.detectionLag.p99
        rateLimitedShare = summary.requests == 0 ? 0 : Double(summary.rateLimited) / Double(summary.requests)
        unfinished = (summary.outcomes[SessionOutcome.clientTimeout.rawValue] ?? 0) + (summary.outcomes[SessionOutcome.expired.rawValue] ?? 0)
        peakPerSecond = result.recorder.seconds.peakRequestsPerSecond
        let seconds = result.recorder.seconds.count
        offeredPerSecond = arrivalPerSecond.map { $0 * summary.requestsPerSession } ?? (seconds == 0 ? 0 : Double(summary.requests) / Double(seconds))
    }
}

/// A parameter sweep over a suite's workload in simulation: each strategy's cost (requests per session)
/// and speed (p99 detection lag), the Pareto frontier between them, the points a rate limit rules out,
/// and the cheapest point that meets a lag target.
public struct Tuning: Sendable {
    /// The sweep's points, marked, in the order given.
    public let points: [TuningPoint]
    /// Index of the recommended point: the fewest requests per session among those that meet the target,
    /// stay under the limit and give up on no more sessions than the best point does (plus 0.5 %).
    public let recommended: Int?
    public let targetP99: Double?
    public let limitPerSecond: Double?

    /// Marks `points`.
    /// - Parameters:
    ///   - targetP99: the p99 detection lag to meet, model ms.
    ///   - limitPerSecond: the provider's rate limit, requests per model second.
    public init(points: [TuningPoint], targetP99: Double?, limitPerSecond: Double?) {
        var marked = points
        // Cheaper first; between equally cheap points, the faster one.
        // A point with no lag measured is never faster than one with a lag: it cannot join the frontier or meet a target.
        let lag = { (index: Int) in marked[index].lagP99 ?? .infinity }
        let cheaper = { (a: Int, b: Int) in (marked[a].requestsPerSession, lag(a)) < (marked[b].requestsPerSession, lag(b)) }
        var best = Double.infinity
        for index in marked.indices.sorted(by: cheaper) {
            if lag(index) < best {
                marked[index].onFrontier = true
                best = lag(index)
            }
        }
        for index in marked.indices {
            marked[index].overLimit = limitPerSecond.map { marked[index].offeredPerSecond > $0 } ?? false
            marked[index].meetsTarget = targetP99.map { lag(index) <= $0 } ?? false
        }
        let fewestUnfinished = marked.map(\.unfinished).min() ?? 0
        let allowance = fewestUnfinished + max(1, (marked.map(\.sessions).max() ?? 0) / 200)
        recommended = marked.indices
            .filter { marked[$0].meetsTarget && !marked[$0].overLimit && marked[$0].unfinished <= allowance }
            .min(by: cheaper)
        self.points = marked
        self.targetP99 = targetP99
        self.limitPerSecond = limitPerSecond
    }

    /// The frontier, cheapest first.
    public var frontier: [TuningPoint] {
        points.filter(\.onFrontier).sorted { $0.requestsPerSession < $1.requestsPerSession }
    }

    /// Simulates every strategy on `suite`'s workload, as many at once as there are cores.
    public static func simulate(_ strategies: [PollStrategy], suite: Suite, roundTrip: RoundTrips) async -> [TuningPoint] {
        let arrival: Double? = switch suite.workload.arrival {
        case .constant(let rate), .poisson(let rate): rate
        case .closed: nil
        }
        let width = max(1, ProcessInfo.processInfo.activeProcessorCount)
        return await withTaskGroup(of: (Int, TuningPoint).self) { group in
            var points = [TuningPoint?](repeating: nil, count: strategies.count)
            var next = 0
            func launch() {
                guard next < strategies.count else { return }
                var single = suite
                single.strategies = [strategies[next]]
                single.mixed = false
                let index = next
                group.addTask { (index, TuningPoint(FastSimulation(suite: single, roundTrip: roundTrip).run()[0], arrivalPerSecond: arrival)) }
                next += 1
            }
            for _ in 0..<width { launch() }
            for await (index, point) in group {
                points[index] = point
                launch()
            }
            return points.compactMap { $0 }
        }
    }

    /// The points as CSV, one row each, with their marks.
    public func csv() -> String {
        var lines = ["strategy,requests_per_session,polls_per_session,lag_p50_ms,lag_p90_ms,lag_p99_ms,http_429_share,unfinished,offered_rps,peak_rps,frontier,over_limit,meets_target,recommended"]
        for (index, p) in points.enumerated() {
            // An empty field, as CSV has it, where there is no data.
            let numbers = [p.requestsPerSession, p.pollsPerSession, p.lagP50, p.lagP90, p.lagP99, p.rateLimitedShare].map { $0.map { String(format: "%.4g", $0) } ?? "" }
            lines.append("\"\(p.strategy)\"," + numbers.joined(separator: ",") + ",\(p.unfinished),\(String(format: "%.4g", p.offeredPerSecond)),\(String(format: "%.4g", p.peakPerSecond)),\(p.onFrontier),\(p.overLimit),\(p.meetsTarget),\(index == recommended)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
