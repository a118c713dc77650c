import Foundation
import PollBenchRules

/// A set of strategies to try, written as a strategy kind with ranges for its parameters:
///
/// | syntax | strategies |
/// |---|---|
/// | `fixed:interval=0.5s..10s/20` | fixed intervals from 0.5 s to 10 s, 20 values evenly spaced |
/// | `exp:initial=0.5s..4s/8,multiplier=1.5..3/4,max=30s` | 8 × 4 exponential backoffs |
/// | `jitter:form=full|equal|decorrelated,base=1s,cap=10s..60s/6` | 3 × 6 jittered backoffs |
/// | `grpc:initial=1s,multiplier=1.2..2/5,jitter=0.2` | 5 gRPC backoffs |
/// | `optimal:p99=2s..10s/9` | 9 optimal schedules, each planned for its p99 bound |
/// | `webhook+fixed:interval=10s..120s/12` | 12 webhook hybrids, their safety poll swept |
///
/// A value is one value, `LOW..HIGH/COUNT` (COUNT values from LOW to HIGH, evenly spaced) or
/// `A|B|C`. A parameter left out takes the strategy's default (exp `1s,x2,max30s`, jitter
/// `full,1s,30s`, grpc `1s,x1.6,j0.2,max2m`).
public struct StrategySweep: Sendable, Equatable {
    /// Every strategy the sweep names, in order, without repeats.
    public let strategies: [PollStrategy]
    /// Which parameters vary (more than one value), for the results' columns.
    public let varying: [String]

    /// The most strategies one sweep may name.
    public static let maximumCount = 5_000

    private static let parameters: [String: [String]] = [
        "fixed": ["interval"],
        "exp": ["initial", "multiplier", "max"],
        "jitter": ["form", "base", "cap"],
        "grpc": ["initial", "multiplier", "jitter", "max"],
        "optimal": ["p99"],
    ]
    private static let defaults: [String: [String: String]] = [
        "fixed": ["interval": "3s"],
        "exp": ["initial": "1s", "multiplier": "2", "max": "30s"],
        "jitter": ["form": "full", "base": "1s", "cap": "30s"],
        "grpc": ["initial": "1s", "multiplier": "1.6", "jitter": "0.2", "max": "2m"],
        "optimal": ["p99": "3s"],
    ]
    private static let aliases = ["x": "multiplier", "j": "jitter", "exponential": "exp"]

    /// Parses a sweep.
    /// - Throws: ``StrategySyntaxError`` with the sweep's text and what is wrong.
    public init(parsing text: String) throws(StrategySyntaxError) {
        let prefix = "webhook+"
        if text.lowercased().hasPrefix(prefix) {
            let safety = try StrategySweep(parsing: String(text.dropFirst(prefix.count)))
            strategies = safety.strategies.map { .webhook(safety: $0) }
            varying = safety.varying
            return
        }
        guard let colon = text.firstIndex(of: ":") else {
            throw StrategySyntaxError(text, "expected KIND:PARAMETER=VALUES,…, e.g. fixed:interval=0.5s..10s/20")
        }
        let given = text[..<colon].lowercased().trimmingSpaces()
        let kind = Self.aliases[given] ?? given
        guard let names = Self.parameters[kind], let defaults = Self.defaults[kind] else {
            throw StrategySyntaxError(text, "unknown strategy '\(given)' (known: fixed, exp, jitter, grpc, optimal)")
        }
        var values = defaults.mapValues { [$0] }
        var varying: [String] = []
        for part in text[text.index(after: colon)...].split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
            let name = Self.aliases[pair[0].lowercased()] ?? pair[0].lowercased()
            guard pair.count == 2, names.contains(name) else {
                throw StrategySyntaxError(text, "'\(part)': expected PARAMETER=VALUES with PARAMETER one of \(names.joined(separator: ", "))")
            }
            values[name] = try Self.values(pair[1], numeric: name == "multiplier" || name == "jitter", in: text)
            if values[name, default: []].count > 1 { varying.append(name) }
        }
        var texts = [""]
        for name in names {
            texts = texts.flatMap { prefix in values[name, default: []].map { prefix + Self.render(kind, name, $0) } }
        }
        guard texts.count <= Self.maximumCount else { throw StrategySyntaxError(text, "names \(texts.count) strategies; at most \(Self.maximumCount)") }
        var seen = Set<PollStrategy>()
        var strategies: [PollStrategy] = []
        for spelled in texts {
            do {
                let strategy = try PollStrategy(parsing: "\(kind):\(spelled.dropFirst())")
                if seen.insert(strategy).inserted { strategies.append(strategy) }
            } catch {
                throw StrategySyntaxError(text, error.problem)
            }
        }
        self.strategies = strategies
        self.varying = varying
    }

    /// One parameter in the strategy syntax, with its leading comma.
    private static func render(_ kind: String, _ name: String, _ value: String) -> String {
        switch name {
        case "multiplier": ",x\(value)"
        case "jitter": ",j\(value)"
        case "max" where kind != "jitter": ",max\(value)"
        case "p99": ",p99=\(value)"
        default: ",\(value)"
        }
    }

    /// The values of `LOW..HIGH/COUNT`, `A|B|C` or a single value, as strategy syntax.
    private static func values(_ text: String, numeric: Bool, in whole: String) throws(StrategySyntaxError) -> [String] {
        if text.contains("|") { return text.split(separator: "|").map { String($0).trimmingSpaces() } }
        guard let dots = text.range(of: "..") else { return [text] }
        let low = String(text[..<dots.lowerBound]), rest = text[dots.upperBound...]
        guard let slash = rest.firstIndex(of: "/"), let count = Int(rest[rest.index(after: slash)...]), (1...1_000).contains(count) else {
            throw StrategySyntaxError(whole, "range '\(text)': expected LOW..HIGH/COUNT with COUNT from 1 to 1000")
        }
        let high = String(rest[..<slash])
        if numeric {
            guard let a = Double(low), let b = Double(high), a <= b else { throw StrategySyntaxError(whole, "range '\(text)': expected numbers LOW <= HIGH") }
            return spaced(a, b, count).map { String(($0 * 1_000).rounded() / 1_000) }
        }
        guard let a = DurationText.milliseconds(low), let b = DurationText.milliseconds(high), a <= b else {
            throw StrategySyntaxError(whole, "range '\(text)': expected durations LOW <= HIGH, e.g. 0.5s..10s/20")
        }
        return spaced(Double(a), Double(b), count).map { "\(Int64($0.rounded()))ms" }
    }

    private static func spaced(_ low: Double, _ high: Double, _ count: Int) -> [Double] {
        count == 1 ? [low] : (0..<count).map { low + (high - low) * Double($0) / Double(count - 1) }
    }
}
