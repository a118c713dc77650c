import Foundation
import PollBenchRules
import Yams

/// A user model file (`users.yaml`): how each provider's users behave, replacing the sandbox's guess.
/// `pollbench calibrate` writes one from a run; suites (`sandbox: {users: FILE}`), `pollbench sandbox
/// --users`, `simulate`, `tune` and `plan` take one. Per provider, either the time to the outcome
/// (what calibration measures) or the two stages the sandbox ships with:
///
/// ```yaml
/// providers:
///   bankidse:
///     outcomeTime: {median: 21.4s, p95: 58.9s}   # creation to the user's outcome
///     completed: 0.85
///     failed: 0.05
///     cancelled: 0.03                          # the rest abandon: their sessions expire
///   smartid:
///     firstAction: {median: 5s, p95: 15s}
///     completion: {median: 10s, p95: 30s}
///     completed: 0.88
///     failed: 0.04
///     cancelled: 0.03
/// ```
public enum UserModelFile {
    /// Reads the file at `path`.
    public static func load(_ path: String) throws(SuiteError) -> [String: UserBehaviour] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SuiteError(file: path, line: nil, problem: "cannot read the file") }
        return try parse(text, file: path)
    }

    /// Parses a user model, naming `file` in errors.
    public static func parse(_ text: String, file: String) throws(SuiteError) -> [String: UserBehaviour] {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw SuiteError(file: file, line: nil, problem: "not valid YAML: \(error)") }
        guard let root else { throw SuiteError(file: file, line: nil, problem: "the file is empty") }
        var top = MapReader(root, file: file, path: "the user model")
        guard var providers = try top.map("providers") else { throw SuiteError(file: file, line: nil, problem: "a user model needs providers: {ID: {…}}") }
        var model: [String: UserBehaviour] = [:]
        for id in providers.keys {
            guard var entry = try providers.map(id) else { continue }
            model[id] = try behaviour(&entry, id: id)
            try entry.finish()
        }
        try providers.finish()
        try top.finish()
        guard !model.isEmpty else { throw SuiteError(file: file, line: nil, problem: "a user model needs at least one provider") }
        return model
    }

    private static func behaviour(_ entry: inout MapReader, id: String) throws(SuiteError) -> UserBehaviour {
        let completed = try entry.number("completed", in: 0...1) ?? 1
        let failed = try entry.number("failed", in: 0...1) ?? 0
        let cancelled = try entry.number("cancelled", in: 0...1) ?? 0
        guard completed + failed + cancelled <= 1 + 1e-9 else { throw entry.error("completed", "\(id): completed, failed and cancelled add up to more than 1") }
        if let outcome = try delay(&entry, "outcomeTime") {
            guard try delay(&entry, "firstAction") == nil, try delay(&entry, "completion") == nil else {
                throw entry.error("outcomeTime", "\(id): give outcomeTime, or firstAction and completion, not both")
            }
            return UserBehaviour(outcomeTime: outcome, completed: completed, failed: failed, cancelled: cancelled)
        }
        guard let first = try delay(&entry, "firstAction"), let completion = try delay(&entry, "completion") else {
            throw entry.error("outcomeTime", "\(id) needs outcomeTime: {median, p95}, or firstAction and completion")
        }
        return UserBehaviour(firstAction: first, completion: completion, completed: completed, failed: failed, cancelled: cancelled)
    }

    /// `{median: 8s, p95: 25s}`, in seconds.
    private static func delay(_ entry: inout MapReader, _ key: String) throws(SuiteError) -> LogNormal? {
        guard var map = try entry.map(key) else { return nil }
        guard let median = try map.duration("median", atLeast: 1), let p95 = try map.duration("p95", atLeast: 1) else {
            throw entry.error(key, "\(key) needs median and p95, e.g. {median: 8s, p95: 25s}")
        }
        guard p95 >= median else { throw entry.error(key, "\(key): p95 must be at least the median") }
        try map.finish()
        return LogNormal(median: Double(median) / 1_000, p95: Double(p95) / 1_000)
    }

    /// The file's text for `model`, providers in `order`, under a comment (its lines get `# `).
    public static func render(_ model: [(id: String, behaviour: UserBehaviour)], comment: String) -> String {
        func seconds(_ value: Double) -> String { String(format: "%.2fs", value) }
        func delay(_ value: LogNormal) -> String { "{median: \(seconds(value.median)), p95: \(seconds(value.p95))}" }
        func share(_ value: Double) -> String { String(format: "%.4f", value) }
        var lines = comment.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)" }
        lines.append("providers:")
        for (id, behaviour) in model {
            lines.append("  \(id):")
            if let outcome = behaviour.outcomeTime {
                lines.append("    outcomeTime: \(delay(outcome))")
            } else {
                lines.append("    firstAction: \(delay(behaviour.firstAction))")
                lines.append("    completion: \(delay(behaviour.completion))")
            }
            lines.append("    completed: \(share(behaviour.completed))")
            lines.append("    failed: \(share(behaviour.failed))")
            lines.append("    cancelled: \(share(behaviour.cancelled))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension SandboxConfiguration {
    /// The providers' users replaced by `model`'s; a provider the sandbox does not offer is refused.
    public mutating func apply(users model: [String: UserBehaviour], file: String) throws(SuiteError) {
        let offered = providers.map(\.id)
        if let unknown = model.keys.sorted().first(where: { !offered.contains($0) }) {
            throw SuiteError(file: file, line: nil, problem: "provider '\(unknown)' is not one the sandbox offers (\(offered.joined(separator: ", ")))")
        }
        for index in providers.indices {
            if let behaviour = model[providers[index].id] { providers[index].behaviour = behaviour }
        }
    }
}
