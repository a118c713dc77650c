import Foundation
import PollBenchRules
import Yams

/// Reads suite files (YAML). Every key is checked: an unknown key, a bad duration, an unknown
/// strategy or a bad threshold is reported with the file and line, never as a crash.
public enum SuiteReader {
    /// Parses `text`, naming `file` in errors.
    public static func parse(_ text: String, file: String) throws(SuiteError) -> Suite {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw SuiteError(file: file, line: nil, problem: "the file is empty") }
            root = node
        } catch let error as SuiteError {
            throw error
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _), let YamlError.composer(_, problem, mark, _) {
            throw SuiteError(file: file, line: mark.line, problem: "not valid YAML: \(problem)")
        } catch {
            throw SuiteError(file: file, line: nil, problem: "not valid YAML: \(error)")
        }
        var reader = MapReader(root, file: file, path: "the suite")
        return try read(&reader, file: file)
    }

    private static func read(_ top: inout MapReader, file: String) throws(SuiteError) -> Suite {
        let name = try top.string("name") ?? baseName(file)
        var workloadMap = try top.map("workload")
        var suite = Suite(
            name: name, description: try top.string("description") ?? "",
            workload: Workload(sessions: 300, arrival: .constant(perSecond: 3), seed: 1)
        )
        if let target = try top.string("target"), target != "embedded" { suite.target = target }
        suite.seed = try top.integer("seed", in: 0...Int.max).map(UInt64.init) ?? 1
        suite.timeScale = try top.number("timeScale", in: ModelClock.scales) ?? 50
        if let mode = try top.string("mode") {
            guard ["sequential", "mixed"].contains(mode) else { throw top.error("mode", "mode must be sequential or mixed") }
            suite.mixed = mode == "mixed"
        }
        suite.clientTimeoutMillis = try top.duration("clientTimeout", in: Suite.Limits.durationMillis) ?? 300_000
        suite.webhookTimeoutMillis = try top.duration("webhookTimeout", in: Suite.Limits.durationMillis)
        suite.createRetries = try top.integer("createRetries", in: Suite.Limits.createRetries) ?? 3
        suite.workers = try top.integer("workers", in: Suite.Limits.workers) ?? 1
        suite.maxDurationMillis = try top.duration("maxDuration", in: Suite.Limits.durationMillis) ?? 600_000
        suite.maxRequestsPerSecond = try top.number("maxRate", in: Suite.Limits.maxRequestsPerSecond) ?? 20_000

        if var workload = workloadMap {
            suite.workload.sessions = try workload.integer("sessions", in: Suite.Limits.sessions) ?? 300
            if let arrival = try workload.string("arrival") {
                do throws(WorkloadError) { suite.workload.arrival = try ArrivalModel(parsing: arrival) } catch { throw workload.error("arrival", error.description) }
            }
            suite.workload.rampSeconds = Double(try workload.duration("ramp", atLeast: 0) ?? 0) / 1_000
            if var providers = try workload.map("providers") {
                suite.workload.providerMix = try providers.weights()
            }
            try workload.finish()
        }
        workloadMap = nil

        if let list = try top.sequence("strategies") {
            suite.strategies = try list.map { node throws(SuiteError) in
                guard let text = node.string else { throw SuiteError(file: file, line: node.mark?.line, problem: "a strategy must be a string like fixed:3s") }
                do throws(StrategySyntaxError) { return try PollStrategy(parsing: text) } catch { throw SuiteError(file: file, line: node.mark?.line, problem: error.description) }
            }
            guard !suite.strategies.isEmpty else { throw top.error("strategies", "strategies must name at least one strategy") }
            guard Set(suite.strategies).count == suite.strategies.count else { throw top.error("strategies", "a strategy is named twice") }
        }

        if var sandbox = try top.map("sandbox") {
            if let ttl = try sandbox.duration("ttl", atLeast: 1_000) { suite.sandbox.ttlSeconds = Double(ttl) / 1_000 }
            if let users = try sandbox.string("users") {
                // A relative path is the suite file's neighbour.
                let path = users.hasPrefix("/") ? users : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(users).path
                do throws(SuiteError) { try suite.sandbox.apply(users: try UserModelFile.load(path), file: path) } catch { throw sandbox.error("users", error.description) }
                suite.usersFile = path
            }
            if let api = try sandbox.string("api") {
                guard let generation = APIGeneration(rawValue: api) else { throw sandbox.error("api", "api must be api-v1 or connect-v1, not '\(api)'") }
                suite.sandbox.api = generation
            }
            if sandbox.isNone("rateLimit") {
                suite.rateLimit = nil
            } else if let limit = try sandbox.limit("rateLimit") {
                suite.rateLimit = limit
            }
            if var limits = try sandbox.map("endpointLimits") {
                for key in limits.keys {
                    guard SandboxEndpoint(rawValue: key) != nil, key != "unknown", key != "authorize" else {
                        throw limits.error(key, "unknown endpoint '\(key)' (known: create, status, userinfo, evidence, cancel, providers)")
                    }
                    suite.endpointLimits[key] = try limits.limit(key)
                }
                try limits.finish()
            }
            if var faults = try sandbox.map("faults") {
                suite.sandbox.faults = try faults.faults()
                try faults.finish()
            }
            if var webhooks = try sandbox.map("webhooks") {
                suite.sandbox.webhooks = try webhooks.webhooks()
                try webhooks.finish()
            }
            try sandbox.finish()
        }

        if let list = try top.sequence("thresholds") {
            suite.checks = try list.map { node throws(SuiteError) in try check(node, file: file, strategies: suite.strategies) }
        }
        if var compare = try top.map("compare") {
            suite.tolerance = try compare.fraction("tolerance") ?? 0.05
            try compare.finish()
        }
        if var capacity = try top.map("capacity") {
            guard let rates = try capacity.sequence("rates"), !rates.isEmpty else { throw capacity.error("rates", "capacity needs rates: [r1, r2, …] (arrivals per model second)") }
            suite.capacityRates = try rates.map { node throws(SuiteError) in
                guard let value = node.string.flatMap(Double.init), value > 0 else { throw SuiteError(file: file, line: node.mark?.line, problem: "a rate must be a number above 0") }
                return value
            }
            guard suite.capacityRates == suite.capacityRates.sorted() else { throw capacity.error("rates", "capacity rates must go up") }
            suite.capacityStepSeconds = try capacity.number("stepSeconds", in: 1...86_400)
            try capacity.finish()
        }
        try top.finish()
        return suite
    }

    private static func check(_ node: Node, file: String, strategies: [PollStrategy]) throws(SuiteError) -> Suite.Check {
        var strategy: String?
        var text: String?
        if let plain = node.string {
            text = plain
        } else if node.mapping != nil {
            var map = MapReader(node, file: file, path: "a threshold")
            if let name = try map.string("strategy") {
                do throws(StrategySyntaxError) { strategy = try PollStrategy(parsing: name).name } catch { throw map.error("strategy", error.description) }
                guard strategies.contains(where: { $0.name == strategy }) else { throw map.error("strategy", "strategy '\(name)' is not one of the suite's strategies") }
            }
            text = try map.string("check")
            try map.finish()
        }
        guard let text else { throw SuiteError(file: file, line: node.mark?.line, problem: "a threshold is an expression, or {strategy: NAME, check: EXPRESSION}") }
        do throws(ThresholdError) {
            return Suite.Check(strategy: strategy, threshold: try Threshold(parsing: text))
        } catch {
            throw SuiteError(file: file, line: node.mark?.line, problem: error.description)
        }
    }
}

/// Reads one YAML mapping, remembering which keys were used so that leftovers are reported.
struct MapReader {
    private let node: Node
    private let mapping: Node.Mapping
    private let file: String
    private let path: String
    private var used: Set<String> = []

    init(_ node: Node, file: String, path: String) {
        self.node = node
        mapping = node.mapping ?? Node.Mapping([])
        self.file = file
        self.path = path
    }

    var keys: [String] { mapping.keys.compactMap(\.string) }

    func error(_ key: String, _ problem: String) -> SuiteError {
        SuiteError(file: file, line: (mapping[key]?.mark ?? node.mark)?.line, problem: problem)
    }

    /// Fails on a key nobody read: most likely a typo.
    func finish() throws(SuiteError) {
        if node.mapping == nil { throw SuiteError(file: file, line: node.mark?.line, problem: "\(path) must be a mapping of key: value") }
        for key in mapping.keys where !used.contains(key.string ?? "") {
            throw SuiteError(file: file, line: key.mark?.line, problem: "unknown key '\(key.string ?? "?")' in \(path)")
        }
    }

    /// Whether `key` is the word `none`, which turns a default off (then the key counts as read).
    mutating func isNone(_ key: String) -> Bool {
        guard mapping[key]?.scalar?.string == "none" else { return false }
        used.insert(key)
        return true
    }

    private mutating func value(_ key: String) -> Node? {
        used.insert(key)
        return mapping[key]
    }

    mutating func string(_ key: String) throws(SuiteError) -> String? {
        guard let node = value(key) else { return nil }
        guard let text = node.scalar?.string else { throw error(key, "'\(key)' must be a single value") }
        return text
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws(SuiteError) -> Int? {
        guard let text = try string(key) else { return nil }
        guard let value = Int(text), range.contains(value) else { throw error(key, "'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'") }
        return value
    }

    mutating func number(_ key: String, in range: ClosedRange<Double>) throws(SuiteError) -> Double? {
        guard let text = try string(key) else { return nil }
        guard let value = Double(text), range.contains(value) else { throw error(key, "'\(key)' must be a number from \(range.lowerBound) to \(range.upperBound), not '\(text)'") }
        return value
    }

    /// A duration within `range` (of which only 1s to 24h are spelled out).
    mutating func duration(_ key: String, in range: ClosedRange<Int64>) throws(SuiteError) -> Int64? {
        guard let millis = try duration(key, atLeast: range.lowerBound) else { return nil }
        guard millis <= range.upperBound else { throw error(key, "'\(key)' must be at most \(DurationText.format(range.upperBound))") }
        return millis
    }

    mutating func duration(_ key: String, atLeast minimum: Int64) throws(SuiteError) -> Int64? {
        guard let text = try string(key) else { return nil }
        guard let millis = DurationText.milliseconds(text) else { throw error(key, "'\(key)': bad duration '\(text)' (use e.g. 250ms, 3s, 1.5s, 2m)") }
        guard millis >= minimum else { throw error(key, "'\(key)' must be at least \(DurationText.format(minimum))") }
        return millis
    }

    mutating func fraction(_ key: String) throws(SuiteError) -> Double? {
        guard let text = try string(key) else { return nil }
        do throws(ThresholdError) { return try Threshold.limit(text, kind: .fraction, in: key) } catch { throw self.error(key, "'\(key)': \(error.problem)") }
    }

    mutating func map(_ key: String) throws(SuiteError) -> MapReader? {
        guard let node = value(key) else { return nil }
        guard node.mapping != nil else { throw error(key, "'\(key)' must be a mapping of key: value") }
        return MapReader(node, file: file, path: "'\(key)'")
    }

    mutating func sequence(_ key: String) throws(SuiteError) -> [Node]? {
        guard let node = value(key) else { return nil }
        guard let sequence = node.sequence else { throw error(key, "'\(key)' must be a list") }
        return Array(sequence)
    }

    mutating func limit(_ key: String) throws(SuiteError) -> TokenBucket.Limit? {
        guard var limit = try map(key) else { return nil }
        guard let rate = try limit.number("rate", in: 0.001...1_000_000) else { throw limit.error("rate", "\(key) needs a rate (requests per model second)") }
        let burst = try limit.integer("burst", in: 1...1_000_000) ?? max(1, Int(rate))
        try limit.finish()
        return TokenBucket.Limit(rate: rate, burst: burst)
    }

    /// A mapping of provider id to weight.
    mutating func weights() throws(SuiteError) -> [(id: String, weight: Double)] {
        var mix: [(id: String, weight: Double)] = []
        for key in keys {
            guard let weight = try number(key, in: 0.000_001...1_000_000) else { continue }
            mix.append((key, weight))
        }
        guard !mix.isEmpty else { throw SuiteError(file: file, line: node.mark?.line, problem: "providers needs at least one provider: weight") }
        return mix
    }

    /// The sandbox's webhooks: `notifyPending`, `delay: {median, p95 | p99}`, `retries: [1s, 5s, 30s]`,
    /// the fault rates, `outages: [{from, to}]` and the sender's `timeout`.
    mutating func webhooks() throws(SuiteError) -> WebhookConfiguration {
        var webhooks = WebhookConfiguration()
        if let pending = try string("notifyPending") {
            guard let value = Bool(pending) else { throw error("notifyPending", "notifyPending must be true or false") }
            webhooks.notifyPending = value
        }
        if var delay = try map("delay") {
            let median = Double(try delay.duration("median", atLeast: 0) ?? 200)
            if let p99 = try delay.duration("p99", atLeast: Int64(median)) {
                webhooks.delay = LogNormal(median: median, p99: Double(p99))
            } else {
                webhooks.delay = LogNormal(median: median, p95: Double(try delay.duration("p95", atLeast: Int64(median)) ?? Int64(median)))
            }
            try delay.finish()
        }
        if let retries = try sequence("retries") {
            webhooks.retryDelaysSeconds = try retries.map { node throws(SuiteError) in
                guard let millis = node.string.flatMap(DurationText.milliseconds), millis > 0 else { throw SuiteError(file: file, line: node.mark?.line, problem: "a retry delay is a duration, e.g. 5s") }
                return Double(millis) / 1_000
            }
        }
        webhooks.lossRate = try fraction("lossRate") ?? 0
        webhooks.duplicateRate = try fraction("duplicateRate") ?? 0
        webhooks.outOfOrderRate = try fraction("outOfOrderRate") ?? 0
        webhooks.badSignatureRate = try fraction("badSignatureRate") ?? 0
        webhooks.timeoutMillis = Int(try duration("timeout", atLeast: 1) ?? Int64(webhooks.timeoutMillis))
        for node in try sequence("outages") ?? [] {
            var outage = MapReader(node, file: file, path: "a webhook outage")
            let from = try outage.duration("from", atLeast: 0) ?? 0
            guard let to = try outage.duration("to", atLeast: from + 1) else { throw outage.error("to", "an outage needs from and to (model time after the start)") }
            try outage.finish()
            webhooks.outages.append(.init(fromSeconds: Double(from) / 1_000, toSeconds: Double(to) / 1_000))
        }
        if let problem = webhooks.problem() { throw SuiteError(file: file, line: node.mark?.line, problem: problem) }
        return webhooks
    }

    mutating func faults() throws(SuiteError) -> FaultConfiguration {
        var faults = FaultConfiguration()
        faults.serverErrorRate = try fraction("serverErrorRate") ?? 0
        faults.closeRate = try fraction("closeRate") ?? 0
        faults.malformedRate = try fraction("malformedRate") ?? 0
        faults.dripRate = try fraction("dripRate") ?? 0
        faults.dripMillis = Int(try duration("drip", atLeast: 0) ?? 500)
        if var latency = try map("latency") {
            let rate = try latency.fraction("rate") ?? 1
            let median = try latency.duration("median", atLeast: 0) ?? 10
            let p95 = try latency.duration("p95", atLeast: median) ?? median
            try latency.finish()
            faults.latency = .init(rate: rate, millis: LogNormal(median: Double(median), p95: Double(p95)))
        }
        for node in try sequence("outages") ?? [] {
            var outage = MapReader(node, file: file, path: "an outage")
            let from = try outage.duration("from", atLeast: 0) ?? 0
            guard let to = try outage.duration("to", atLeast: from + 1) else { throw outage.error("to", "an outage needs from and to (model time after the start)") }
            let provider = try outage.string("provider")
            try outage.finish()
            faults.outages.append(.init(provider: provider, fromSeconds: Double(from) / 1_000, toSeconds: Double(to) / 1_000))
        }
        if let problem = faults.problem() { throw SuiteError(file: file, line: node.mark?.line, problem: problem) }
        return faults
    }
}

/// The last path component without its extension: a suite's default name.
private func baseName(_ path: String) -> String {
    let last = path.split(separator: "/").last.map(String.init) ?? path
    return last.split(separator: ".").first.map(String.init) ?? last
}
