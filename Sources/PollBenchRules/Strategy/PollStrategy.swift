/// A polling strategy: how long to wait before each status poll. Written in one compact syntax shared
/// by the CLI and suites:
///
/// | syntax | meaning |
/// |---|---|
/// | `fixed:3s` | every 3 s (the published client's default) |
/// | `exp:1s,x2,max30s` | 1 s, then ×2 each poll, never above 30 s |
/// | `jitter:full,1s,30s` | AWS "full jitter": uniform in [0, min(cap, base·2ⁿ)] |
/// | `jitter:equal,1s,30s` | AWS "equal jitter": half that, plus uniform in the other half |
/// | `jitter:decorrelated,1s,30s` | AWS "decorrelated jitter": min(cap, uniform in [base, 3·previous]) |
/// | `grpc:1s,max30s` | gRPC backoff: ×1.6 each poll, ±20 % jitter (`x`, `j` override them) |
/// | `webhook` | waits for the signed webhook; reads the status once at the webhook timeout |
/// | `optimal:p99=3s` | the fewest polls for a p99 detection lag of 3 s, planned per provider from the run's user model |
/// | `optimal:budget=6` | the smallest p99 detection lag for 6 polls per session on average |
/// | `webhook+fixed:30s` | the webhook, with a safety poll on any schedule above, cancelled when it comes |
public struct PollStrategy: Sendable, Hashable {
    /// A schedule of polls.
    public enum Polling: Sendable, Hashable {
        case fixed(intervalMillis: Int64)
        case exponential(initialMillis: Int64, multiplier: Double, maxMillis: Int64)
        case jitter(JitterForm, baseMillis: Int64, capMillis: Int64)
        case grpc(initialMillis: Int64, multiplier: Double, jitter: Double, maxMillis: Int64)
        /// Poll times planned per provider (``OptimalPlanner``); shared by every session.
        case optimal(OptimalSchedule)
    }

    /// The schedule the session polls on (a hybrid's safety poll); nil: it does not poll (pure `webhook`).
    public let polling: Polling?
    /// Whether sessions ask for a webhook.
    public let usesWebhooks: Bool

    /// A plain value, so that a session machine holding one copies and frees for almost nothing: the one
    /// reference is an `optimal` strategy's plan, shared by all its sessions.
    private init(polling: Polling?, usesWebhooks: Bool) {
        self.polling = polling
        self.usesWebhooks = usesWebhooks
    }

    public static func fixed(intervalMillis: Int64) -> PollStrategy {
        PollStrategy(polling: .fixed(intervalMillis: intervalMillis), usesWebhooks: false)
    }

    public static func exponential(initialMillis: Int64, multiplier: Double, maxMillis: Int64) -> PollStrategy {
        PollStrategy(polling: .exponential(initialMillis: initialMillis, multiplier: multiplier, maxMillis: maxMillis), usesWebhooks: false)
    }

    public static func jitter(_ form: JitterForm, baseMillis: Int64, capMillis: Int64) -> PollStrategy {
        PollStrategy(polling: .jitter(form, baseMillis: baseMillis, capMillis: capMillis), usesWebhooks: false)
    }

    public static func grpc(initialMillis: Int64, multiplier: Double, jitter: Double, maxMillis: Int64) -> PollStrategy {
        PollStrategy(polling: .grpc(initialMillis: initialMillis, multiplier: multiplier, jitter: jitter, maxMillis: maxMillis), usesWebhooks: false)
    }

    /// An `optimal` strategy, not yet planned (see ``planned(by:)``).
    public static func optimal(_ goal: OptimalGoal) -> PollStrategy {
        PollStrategy(polling: .optimal(OptimalSchedule(goal: goal)), usesWebhooks: false)
    }

    /// The `optimal` schedule, when this strategy has one.
    public var optimalSchedule: OptimalSchedule? {
        if case .optimal(let schedule) = polling { schedule } else { nil }
    }

    /// This strategy with its `optimal` schedule planned by `planner` (unchanged when it has none, or it
    /// is planned already).
    public func planned(by planner: @autoclosure () -> OptimalPlanner) -> PollStrategy {
        guard let schedule = optimalSchedule, schedule.plan == nil else { return self }
        return PollStrategy(polling: .optimal(OptimalSchedule(goal: schedule.goal, plan: planner().plan(schedule.goal))), usesWebhooks: usesWebhooks)
    }

    /// The session asks the service for a webhook and waits for it, polling on `safety`'s schedule
    /// meanwhile (nil: not at all).
    public static func webhook(safety: PollStrategy?) -> PollStrategy {
        PollStrategy(polling: safety?.polling, usesWebhooks: true)
    }

    /// The three AWS jitter forms.
    public enum JitterForm: String, Sendable, Hashable, CaseIterable {
        case full, equal, decorrelated
    }

    /// The default comparison: the published client, exponential backoff, full jitter.
    public static let defaultComparison: [PollStrategy] = [
        .fixed(intervalMillis: 3_000),
        .exponential(initialMillis: 1_000, multiplier: 2, maxMillis: 30_000),
        .jitter(.full, baseMillis: 1_000, capMillis: 30_000),
    ]

    /// Parses the compact syntax.
    /// - Throws: ``StrategySyntaxError`` naming what is wrong.
    public init(parsing text: String) throws(StrategySyntaxError) {
        let trimmed = text.trimmingSpaces()
        if trimmed.lowercased().hasPrefix("webhook") {
            let rest = trimmed.dropFirst("webhook".count)
            if rest.isEmpty { self = .webhook(safety: nil); return }
            guard rest.hasPrefix("+") else { throw StrategySyntaxError(text, "expected webhook or webhook+SAFETY, e.g. webhook+fixed:30s") }
            let safety = try PollStrategy(parsing: String(rest.dropFirst()))
            guard !safety.usesWebhooks else { throw StrategySyntaxError(text, "the safety poll must be a poll strategy, e.g. webhook+exp:5s,x2,max60s") }
            self = .webhook(safety: safety)
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else {
            throw StrategySyntaxError(text, "expected KIND:PARAMETERS, e.g. fixed:3s, exp:1s,x2,max30s, jitter:full,1s,30s, grpc:1s,max30s")
        }
        let kind = trimmed[..<colon].lowercased()
        let parts = trimmed[trimmed.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
        switch kind {
        case "fixed":
            guard parts.count == 1 else { throw StrategySyntaxError(text, "fixed takes one interval, e.g. fixed:3s") }
            self = .fixed(intervalMillis: try Self.positiveDuration(parts[0], in: text))
        case "exp", "exponential":
            var initial: Int64?, multiplier = 2.0, maximum: Int64 = 30_000
            for part in parts {
                if part.hasPrefix("x") { multiplier = try Self.multiplier(part, in: text) }
                else if part.hasPrefix("max") { maximum = try Self.positiveDuration(String(part.dropFirst(3)), in: text) }
                else if initial == nil { initial = try Self.positiveDuration(part, in: text) }
                else { throw StrategySyntaxError(text, "unexpected '\(part)'; exp takes INITIAL[,xMULTIPLIER][,maxDURATION]") }
            }
            guard let initial else { throw StrategySyntaxError(text, "exp needs an initial interval, e.g. exp:1s,x2,max30s") }
            guard maximum >= initial else { throw StrategySyntaxError(text, "max must be at least the initial interval") }
            self = .exponential(initialMillis: initial, multiplier: multiplier, maxMillis: maximum)
        case "jitter":
            guard parts.count == 3, let form = JitterForm(rawValue: parts[0].lowercased()) else {
                throw StrategySyntaxError(text, "jitter takes FORM,BASE,CAP with FORM one of full, equal, decorrelated, e.g. jitter:full,1s,30s")
            }
            let base = try Self.positiveDuration(parts[1], in: text)
            let cap = try Self.positiveDuration(parts[2], in: text)
            guard cap >= base else { throw StrategySyntaxError(text, "the cap must be at least the base") }
            self = .jitter(form, baseMillis: base, capMillis: cap)
        case "grpc":
            var initial: Int64?, multiplier = 1.6, jitter = 0.2, maximum: Int64 = 120_000
            for part in parts {
                if part.hasPrefix("x") { multiplier = try Self.multiplier(part, in: text) }
                else if part.hasPrefix("max") { maximum = try Self.positiveDuration(String(part.dropFirst(3)), in: text) }
                else if part.hasPrefix("j") {
                    guard let value = Double(part.dropFirst()), (0..<1).contains(value) else { throw StrategySyntaxError(text, "jitter '\(part)' must be j followed by a fraction in [0, 1)") }
                    jitter = value
                } else if initial == nil { initial = try Self.positiveDuration(part, in: text) }
                else { throw StrategySyntaxError(text, "unexpected '\(part)'; grpc takes INITIAL[,xMULTIPLIER][,jFRACTION][,maxDURATION]") }
            }
            guard let initial else { throw StrategySyntaxError(text, "grpc needs an initial interval, e.g. grpc:1s,max30s") }
            guard maximum >= initial else { throw StrategySyntaxError(text, "max must be at least the initial interval") }
            self = .grpc(initialMillis: initial, multiplier: multiplier, jitter: jitter, maxMillis: maximum)
        case "optimal":
            let pair = parts.count == 1 ? parts[0].split(separator: "=", maxSplits: 1).map(String.init) : []
            switch (pair.first?.lowercased(), pair.count) {
            case ("p99", 2):
                let bound = try Self.positiveDuration(pair[1], in: text)
                guard bound >= 250 else { throw StrategySyntaxError(text, "the p99 bound must be at least 250ms") }
                self = .optimal(.p99Lag(millis: bound))
            case ("budget", 2):
                guard let polls = Double(pair[1]), polls >= 1, polls <= 10_000 else { throw StrategySyntaxError(text, "the budget must be a number of polls per session from 1 to 10000") }
                self = .optimal(.meanPolls(polls))
            default:
                throw StrategySyntaxError(text, "optimal takes p99=BOUND or budget=POLLS, e.g. optimal:p99=3s, optimal:budget=6")
            }
        default:
            throw StrategySyntaxError(text, "unknown strategy '\(kind)' (known: fixed, exp, jitter, grpc, optimal, webhook)")
        }
    }

    /// The canonical spelling, which parses back to the same strategy; also its name in results.
    public var name: String {
        guard let polling else { return "webhook" }
        let schedule = switch polling {
        case .fixed(let interval): "fixed:\(DurationText.format(interval))"
        case .exponential(let initial, let multiplier, let maximum): "exp:\(DurationText.format(initial)),x\(Self.number(multiplier)),max\(DurationText.format(maximum))"
        case .jitter(let form, let base, let cap): "jitter:\(form.rawValue),\(DurationText.format(base)),\(DurationText.format(cap))"
        case .grpc(let initial, let multiplier, let jitter, let maximum): "grpc:\(DurationText.format(initial)),x\(Self.number(multiplier)),j\(Self.number(jitter)),max\(DurationText.format(maximum))"
        case .optimal(let schedule): "optimal:\(schedule.goal.text)"
        }
        return usesWebhooks ? "webhook+" + schedule : schedule
    }

    /// A file-name-safe form of ``name``.
    public var fileName: String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "-" })
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    private static func positiveDuration(_ text: String, in whole: String) throws(StrategySyntaxError) -> Int64 {
        guard let millis = DurationText.milliseconds(text) else { throw StrategySyntaxError(whole, "bad duration '\(text)' (use e.g. 250ms, 3s, 1.5s, 2m)") }
        guard millis >= 1 else { throw StrategySyntaxError(whole, "duration '\(text)' must be at least 1ms") }
        guard millis <= 3_600_000 else { throw StrategySyntaxError(whole, "duration '\(text)' must be at most 1h") }
        return millis
    }

    private static func multiplier(_ text: String, in whole: String) throws(StrategySyntaxError) -> Double {
        guard let value = Double(text.dropFirst()), value >= 1, value <= 10 else {
            throw StrategySyntaxError(whole, "multiplier '\(text)' must be x followed by a number from 1 to 10")
        }
        return value
    }
}

/// A strategy that does not parse, with the text and what is wrong with it.
public struct StrategySyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text given.
    public let text: String
    /// What is wrong.
    public let problem: String

    package init(_ text: String, _ problem: String) {
        self.text = text
        self.problem = problem
    }

    public var description: String { "strategy '\(text)': \(problem)" }
}
