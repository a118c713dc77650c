import Foundation
import PollBenchRules

/// An optimal plan in words: each provider's first poll, its gaps while users finish and where they
/// widen, and what the model expects beside the cheapest fixed interval within the same bound.
public enum OptimalPlanText {
    /// The lines for `plan`, planned as `name`.
    public static func lines(_ plan: OptimalPlan, name: String) -> [String] {
        var lines = ["\(name): poll times planned on a \(seconds(Int64(plan.gridMillis.rounded()))) grid, per provider (the provider is known at create):"]
        let width = plan.providers.map(\.id.count).max() ?? 0
        for row in plan.providers {
            let label = row.id.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: " (%2.0f%%)", row.weight * 100)
            if row.redirect {
                lines.append("  \(label): the status is read when the browser returns; \(String(format: "%.2f", row.expectedPolls)) polls per session")
            } else {
                lines.append("  \(label): \(schedule(row.pollMillis)); \(String(format: "%.2f", row.expectedPolls)) polls per session")
            }
        }
        let bound = seconds(plan.lagBoundMillis)
        lines.append(String(
            format: "expected: %.2f polls per session, %.2f%% of the sessions that see their end over %@ (p99 within %@ plus the round trip)",
            plan.expectedPolls, plan.overBoundShare * 100, bound, bound
        ))
        let saving = plan.fixedPolls > 0 ? (1 - plan.expectedPolls / plan.fixedPolls) * 100 : 0
        lines.append(String(format: "fixed:%@ on the same model: %.2f polls per session; the plan polls %.0f%% less", bound, plan.fixedPolls, saving))
        return lines
    }

    /// `first poll 9s; every 3s to 1m30s (28 polls); 29.25s, then every 30s to 4m29.25s (6 polls)`.
    static func schedule(_ times: [Int64]) -> String {
        guard let first = times.first else { return "no poll" }
        var parts = ["first poll at \(seconds(first))"]
        var index = 1
        while index < times.count {
            let gap = times[index] - times[index - 1]
            var end = index
            while end + 1 < times.count, times[end + 1] - times[end] == gap { end += 1 }
            let count = end - index + 1
            parts.append(count == 1 ? "then \(seconds(gap)) later" : "every \(seconds(gap)) to \(seconds(times[end])) (\(count) polls)")
            index = end + 1
        }
        return parts.joined(separator: "; ")
    }

    /// `9s`, `29.25s`, `4m29.25s`.
    static func seconds(_ millis: Int64) -> String {
        let minutes = millis / 60_000, rest = Double(millis % 60_000) / 1_000
        var text = String(format: "%.2f", rest)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return minutes > 0 ? "\(minutes)m\(text)s" : "\(text)s"
    }
}
