import Foundation
import PollBenchRules

/// A pass/fail rule on one strategy's results, written as `AGGREGATE(METRIC) OPERATOR VALUE`:
///
/// - distributions, with `min`, `mean`, `p50`, `p90`, `p99`, `p999`, `max`: `detection_lag`,
///   `time_to_result` (model time), `latency_<endpoint>`, `latency_<endpoint>_uncorrected`, `slip`
///   (wall time) — compared with a duration (`4s`, `250ms`); `polls_per_session` — with a number;
/// - counts, with `count`: `requests`, `errors`, `http_429`, `http_5xx`, `transport_errors`,
///   `malformed_bodies` and every outcome (`completed`, `failed`, `expired`, `cancelled`,
///   `client_timeout`, `error`, `interrupted`);
/// - shares, with `rate`: `errors`, `http_429`, `http_5xx`, `transport_errors` (of requests) and every
///   outcome (of sessions) — compared with a fraction or a percentage (`0.1%`);
/// - `mean(requests_per_session)`.
///
/// Operators: `<`, `<=`, `>`, `>=`, `==`, `!=`. Example: `p99(detection_lag) < 4s`.
public struct Threshold: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable {
        case lessOrEqual = "<=", greaterOrEqual = ">=", equal = "==", notEqual = "!=", less = "<", greater = ">"

        func holds(_ measured: Double, _ limit: Double) -> Bool {
            switch self {
            case .less: measured < limit
            case .lessOrEqual: measured <= limit
            case .greater: measured > limit
            case .greaterOrEqual: measured >= limit
            case .equal: measured == limit
            case .notEqual: measured != limit
            }
        }
    }

    /// The text as written.
    public let expression: String
    public let aggregate: String
    public let metric: String
    public let comparison: Comparison
    /// The limit in the metric's unit: milliseconds, a count or a fraction.
    public let limit: Double

    public var description: String { expression }

    /// What a threshold with nothing to measure reports as its measured value.
    public static let noData = "no data"
    static let distributionAggregates = ["min", "mean", "p50", "p90", "p99", "p999", "max"]
    static let countMetrics = ["requests", "errors", "http_429", "http_5xx", "transport_errors", "malformed_bodies"]
    /// A webhook strategy's counts (zero for a poll strategy): `rate()` of sessions for rescues, of deliveries for the others.
    static let webhookCounts = ["webhook_rescued", "webhook_refused", "webhook_duplicates"]
    static let outcomeMetrics = SessionOutcome.allCases.map { $0.rawValue.replacingOccurrences(of: "-", with: "_") }

    /// Parses an expression.
    /// - Throws: ``ThresholdError`` saying what is wrong.
    public init(parsing text: String) throws(ThresholdError) {
        let whole = text.trimmingSpaces()
        guard let open = whole.firstIndex(of: "("), let close = whole.firstIndex(of: ")"), open < close else {
            throw ThresholdError(whole, "expected AGGREGATE(METRIC) OPERATOR VALUE, e.g. p99(detection_lag) < 4s")
        }
        let aggregate = String(whole[..<open]).trimmingSpaces().lowercased()
        let metric = String(whole[whole.index(after: open)..<close]).trimmingSpaces().lowercased()
        let rest = String(whole[whole.index(after: close)...]).trimmingSpaces()
        guard let comparison = Comparison.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw ThresholdError(whole, "expected an operator (<, <=, >, >=, ==, !=) after '\(aggregate)(\(metric))'")
        }
        let valueText = String(rest.dropFirst(comparison.rawValue.count)).trimmingSpaces()
        guard !valueText.isEmpty else { throw ThresholdError(whole, "missing the value after '\(comparison.rawValue)'") }
        limit = try Self.limit(valueText, kind: try Self.kind(aggregate: aggregate, metric: metric, in: whole), in: whole)
        expression = whole
        self.aggregate = aggregate
        self.metric = metric
        self.comparison = comparison
    }

    enum Kind { case duration, number, fraction }

    static func kind(aggregate: String, metric: String, in expression: String) throws(ThresholdError) -> Kind {
        switch aggregate {
        case _ where distributionAggregates.contains(aggregate):
            if metric == "polls_per_session" { return .number }
            if metric == "requests_per_session" {
                guard aggregate == "mean" else { throw ThresholdError(expression, "requests_per_session takes mean() only") }
                return .number
            }
            guard ["detection_lag", "time_to_result", "slip", "webhook_delivery_lag"].contains(metric) || latencyEndpoint(metric) != nil else {
                throw ThresholdError(expression, "unknown distribution '\(metric)' (known: detection_lag, time_to_result, polls_per_session, slip, webhook_delivery_lag, latency_<endpoint>[_uncorrected], requests_per_session)")
            }
            return .duration
        case "count":
            guard countMetrics.contains(metric) || outcomeMetrics.contains(metric) || webhookCounts.contains(metric) else {
                throw ThresholdError(expression, "unknown count '\(metric)' (known: \((countMetrics + outcomeMetrics + webhookCounts).joined(separator: ", ")))")
            }
            return .number
        case "rate":
            guard ["errors", "http_429", "http_5xx", "transport_errors"].contains(metric) || outcomeMetrics.contains(metric) || webhookCounts.contains(metric) else {
                throw ThresholdError(expression, "unknown rate '\(metric)' (known: errors, http_429, http_5xx, transport_errors, \((outcomeMetrics + webhookCounts).joined(separator: ", ")))")
            }
            return .fraction
        default:
            throw ThresholdError(expression, "unknown aggregate '\(aggregate)' (known: \((distributionAggregates + ["count", "rate"]).joined(separator: ", ")))")
        }
    }

    static func latencyEndpoint(_ metric: String) -> (Endpoint, uncorrected: Bool)? {
        guard metric.hasPrefix("latency_") else { return nil }
        var name = String(metric.dropFirst(8))
        let uncorrected = name.hasSuffix("_uncorrected")
        if uncorrected { name = String(name.dropLast(12)) }
        return Endpoint(rawValue: name).map { ($0, uncorrected) }
    }

    /// A fraction written as `0.05` or `5%`.
    public static func fraction(_ text: String) throws(ThresholdError) -> Double {
        try limit(text, kind: .fraction, in: text)
    }

    static func limit(_ text: String, kind: Kind, in expression: String) throws(ThresholdError) -> Double {
        switch kind {
        case .duration:
            guard let millis = DurationText.milliseconds(text) else { throw ThresholdError(expression, "'\(text)' is not a duration (write e.g. 4s, 250ms)") }
            return Double(millis)
        case .number:
            guard let value = Double(text), value.isFinite, value >= 0 else { throw ThresholdError(expression, "'\(text)' is not a number of at least 0") }
            return value
        case .fraction:
            if text.hasSuffix("%") {
                guard let percent = Double(text.dropLast()), (0...100).contains(percent) else { throw ThresholdError(expression, "'\(text)' is not a percentage from 0% to 100%") }
                return percent / 100
            }
            guard let value = Double(text), (0...1).contains(value) else { throw ThresholdError(expression, "'\(text)' is not a fraction from 0 to 1 (or write a percentage, e.g. 0.1%)") }
            return value
        }
    }

    /// The measured value for `summary`, in the limit's unit; nil when there is no data to judge
    /// (an empty distribution: no session reached a terminal status, no request to that endpoint).
    public func measure(_ summary: StrategySummary) -> Double? {
        func distribution(_ d: Distribution) -> Double? {
            switch aggregate {
            case "min": d.min
            case "mean": d.mean
            case "p50": d.p50
            case "p90": d.p90
            case "p99": d.p99
            case "p999": d.p999
            default: d.max
            }
        }
        let requests = Double(summary.requests)
        let sessions = Double(summary.sessions)
        func share(_ part: Double, of whole: Double) -> Double { whole == 0 ? 0 : part / whole }
        switch (aggregate, metric) {
        case (_, "detection_lag"): return distribution(summary.detectionLag)
        case (_, "time_to_result"): return distribution(summary.timeToResult)
        case (_, "polls_per_session"): return distribution(summary.pollsPerSession)
        case (_, "slip"): return distribution(summary.scheduleSlip)
        case (_, "requests_per_session"): return summary.requestsPerSession
        case (_, "webhook_delivery_lag"): return summary.webhooks.flatMap { distribution($0.deliveryLag) }
        case _ where Self.webhookCounts.contains(metric):  // count() or rate(): the parser allows no other
            let counts = summary.webhooks?.counts ?? WebhookCounts()
            let received = Double(counts.receipts.values.reduce(0, +))
            switch metric {
            case "webhook_rescued": return aggregate == "count" ? Double(counts.rescuedByPoll) : share(Double(counts.rescuedByPoll), of: sessions)
            case "webhook_refused":
                let refused = received - Double(counts.receipts[WebhookReceipt.accepted.rawValue] ?? 0)
                return aggregate == "count" ? refused : share(refused, of: received)
            default:
                let duplicates = Double(counts.notices[SessionMachine.NoticeKind.duplicate.rawValue] ?? 0)
                return aggregate == "count" ? duplicates : share(duplicates, of: received)
            }
        case ("count", _), ("rate", _):
            let count: Double
            if let outcome = SessionOutcome(rawValue: metric.replacingOccurrences(of: "_", with: "-")) {
                count = Double(summary.outcomes[outcome.rawValue] ?? 0)
                return aggregate == "count" ? count : share(count, of: sessions)
            }
            count = Double(Self.count(metric, in: summary))
            return aggregate == "count" ? count : share(count, of: requests)
        default:
            guard let (endpoint, uncorrected) = Self.latencyEndpoint(metric), let latency = summary.latency[endpoint.rawValue] else { return nil }
            return distribution(uncorrected ? latency.fromSent : latency.fromIntended)
        }
    }

    static func count(_ metric: String, in summary: StrategySummary) -> Int {
        let fiveHundreds = summary.responses.values.reduce(0) { total, statuses in
            total + statuses.filter { $0.key.hasPrefix("5") }.values.reduce(0, +)
        }
        let transport = summary.transportErrors.values.reduce(0, +)
        switch metric {
        case "requests": return summary.requests
        case "http_429": return summary.rateLimited
        case "http_5xx": return fiveHundreds
        case "transport_errors": return transport
        case "malformed_bodies": return summary.malformedBodies
        default: return fiveHundreds + transport + summary.malformedBodies  // errors
        }
    }

    /// Whether the metric is a wall-clock figure (request latency, schedule slip): the fast simulation
    /// measures none, so it cannot judge one.
    public var isWallClock: Bool { metric == "slip" || metric.hasPrefix("latency_") }

    /// Whether `summary` meets the threshold, and the measured value as text in the expression's unit.
    /// A threshold with nothing to measure fails as `no data`: an unmeasured figure meets no limit.
    public func evaluate(_ summary: StrategySummary) -> (passed: Bool, measured: String) {
        guard let measured = measure(summary) else { return (false, Self.noData) }
        let text: String
        switch try? Self.kind(aggregate: aggregate, metric: metric, in: expression) {
        case .duration: text = measured >= 1_000 ? String(format: "%.3fs", measured / 1_000) : String(format: "%.1fms", measured)
        case .fraction: text = String(format: "%.3f%%", measured * 100)
        default: text = measured == measured.rounded() ? String(Int(measured)) : String(format: "%.2f", measured)
        }
        return (comparison.holds(measured, limit), text)
    }
}

/// A threshold expression that does not parse.
public struct ThresholdError: Error, Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    public let problem: String

    init(_ expression: String, _ problem: String) {
        self.expression = expression
        self.problem = problem
    }

    public var description: String { "threshold '\(expression)': \(problem)" }
}

/// One threshold checked against one strategy.
public struct ThresholdResult: Sendable, Codable, Equatable {
    public var strategy: String
    public var threshold: String
    public var measured: String
    public var passed: Bool
    /// Why the threshold was not judged (a wall-clock figure in the fast simulation); nil: it was.
    /// A skipped threshold neither passes nor fails the run, and every report says so.
    public var skipped: String?

    public init(strategy: String, threshold: String, measured: String, passed: Bool, skipped: String? = nil) {
        self.strategy = strategy
        self.threshold = threshold
        self.measured = measured
        self.passed = passed
        self.skipped = skipped
    }

    /// A threshold the runner could not measure.
    static func skipped(_ threshold: Threshold, strategy: String, because reason: String) -> ThresholdResult {
        ThresholdResult(strategy: strategy, threshold: threshold.expression, measured: "not measured", passed: true, skipped: reason)
    }

    /// `✓`, `✗ FAILED` or `– skipped (why)`.
    public var verdict: String {
        if let skipped { return "– skipped (\(skipped))" }
        return passed ? "✓" : "✗ FAILED"
    }
}
