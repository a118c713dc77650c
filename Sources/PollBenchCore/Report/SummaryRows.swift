import Foundation
import PollBenchRules

/// The side-by-side comparison every summary shows: one row per figure, one column per strategy.
/// The terminal table and summary.md are both drawn from these rows, so they always agree.
public enum SummaryRows {
    /// The header (`metric`, then the strategy names) and the rows.
    public static func table(_ record: RunRecord) -> (header: [String], rows: [[String]]) {
        let s = record.strategies
        // A strategy that never ran (an interrupted sequential run) shows dashes, not zeros.
        func row(_ label: String, _ value: (StrategySummary) -> String) -> [String] { [label] + s.map { $0.sessions == 0 ? "-" : value($0) } }
        func seconds(_ ms: Double?) -> String { NumberText.seconds(fromMillis: ms) }
        func millis(_ ms: Double?) -> String { NumberText.orNoData(ms) { String(format: "%.1f ms", $0) } }
        var rows = [
            row("detection lag p50") { seconds($0.detectionLag.p50) },
            row("detection lag p90") { seconds($0.detectionLag.p90) },
            row("detection lag p99") { seconds($0.detectionLag.p99) },
            row("time to result p50") { seconds($0.timeToResult.p50) },
            row("polls / session (mean)") { NumberText.orNoData($0.pollsPerSession.mean) { String(format: "%.1f", $0) } },
            row("polls / session (p99)") { NumberText.orNoData($0.pollsPerSession.p99) { String(format: "%.0f", $0) } },
            row("requests") { String($0.requests) },
            row("requests / session") { String(format: "%.1f", $0.requestsPerSession) },
            row("429s") { String($0.rateLimited) },
        ]
        if s.contains(where: { $0.rateLimited > 0 }) {
            rows.append(row("Retry-After waited (model)") { String(format: "%.0f s", $0.retryAfterWaitSeconds) })
        }
        rows += [
            row("status latency p99 (intended)") { millis($0.latency["status"]?.fromIntended.p99) },
            row("status latency p99 (sent)") { millis($0.latency["status"]?.fromSent.p99) },
            row("schedule slip p99") { millis($0.scheduleSlip.p99) },
        ]
        for outcome in SessionOutcome.allCases where s.contains(where: { ($0.outcomes[outcome.rawValue] ?? 0) > 0 }) {
            rows.append(row(outcome.rawValue) { String($0.outcomes[outcome.rawValue] ?? 0) })
        }
        if s.contains(where: { !$0.transportErrors.isEmpty || $0.malformedBodies > 0 }) {
            rows.append(row("transport errors") { String($0.transportErrors.values.reduce(0, +)) })
            rows.append(row("malformed bodies") { String($0.malformedBodies) })
        }
        if s.contains(where: { $0.webhooks != nil }) { rows += webhookRows(s, seconds: seconds) }
        if s.contains(where: { $0.transport != nil }) { rows += transportRows(s, millis: millis) }
        return (["metric"] + s.map(\.name), rows)
    }

    /// What the transport reported: the protocol, the connections and what opening them cost.
    private static func transportRows(_ s: [StrategySummary], millis: (Double?) -> String) -> [[String]] {
        func row(_ label: String, _ value: (TransportSummary) -> String) -> [String] { [label] + s.map { summary in summary.transport.map(value) ?? "-" } }
        func phase(_ t: TransportSummary, _ phase: TransferPhase, _ pick: (Distribution) -> Double?) -> String { t.overall[phase.rawValue].map { millis(pick($0)) } ?? "-" }
        var rows = [
            row("HTTP version") { $0.connections.httpVersions.sorted { $0.value > $1.value }.map { "HTTP/\($0.key)" }.joined(separator: ", ") },
            row("connections opened / reused") { "\($0.connections.opened) / \($0.connections.reused)" },
            row("TCP connect p50") { phase($0, .connect, \.p50) },
            row("first byte p99 (waiting)") { phase($0, .firstByte, \.p99) },
        ]
        if s.contains(where: { $0.transport?.overall[TransferPhase.tls.rawValue] != nil }) {
            rows.insert(row("TLS handshake p50 / p99") { t in t.overall[TransferPhase.tls.rawValue].map { "\(millis($0.p50)) / \(millis($0.p99))" } ?? "-" }, at: 3)
        }
        if s.contains(where: { ($0.transport?.connections.retriedAfterGoaway ?? 0) > 0 }) {
            rows.append(row("sent again after GOAWAY") { String($0.connections.retriedAfterGoaway) })
        }
        return rows
    }

    /// Per strategy and endpoint, each transfer phase's p50 and p99 (wall ms): the breakdown k6 gives
    /// as `http_req_connecting`, `http_req_tls_handshaking`, `http_req_waiting` and `http_req_duration`.
    public static func transportTable(_ record: RunRecord) -> (header: [String], rows: [[String]])? {
        guard record.strategies.contains(where: { $0.transport != nil }) else { return nil }
        let header = ["strategy", "endpoint"] + TransferPhase.allCases.map { "\($0.rawValue) p50 / p99" }
        var rows: [[String]] = []
        for summary in record.strategies {
            guard let transport = summary.transport else { continue }
            for endpoint in Endpoint.allCases {
                guard let phases = transport.phases[endpoint.rawValue] else { continue }
                rows.append([summary.name, endpoint.rawValue] + TransferPhase.allCases.map { phase in
                    phases[phase.rawValue].map { NumberText.orNoData($0.p50) { String(format: "%.2f", $0) } + " / " + NumberText.orNoData($0.p99) { String(format: "%.2f ms", $0) } } ?? "-"
                })
            }
        }
        return (header, rows)
    }

    /// The webhook strategies' figures (a dash for the others): which channel saw the end first, the
    /// delivery lag, what the webhooks saved, and what the receiver refused or counted once.
    private static func webhookRows(_ s: [StrategySummary], seconds: (Double?) -> String) -> [[String]] {
        func row(_ label: String, _ value: (WebhookSummary) -> String) -> [String] { [label] + s.map { summary in summary.webhooks.map(value) ?? "-" } }
        func count(_ counts: [String: Int], _ key: String) -> String { String(counts[key] ?? 0) }
        var rows = [
            row("seen first by webhook / poll") { "\($0.counts.noticedFirst["webhook"] ?? 0) / \($0.counts.noticedFirst["poll"] ?? 0)" },
            row("rescued by a poll") { String($0.counts.rescuedByPoll) },
            row("webhook delivery lag p50") { seconds($0.deliveryLag.p50) },
            row("webhook delivery lag p99") { seconds($0.deliveryLag.p99) },
            row("polls saved / session") { String(format: "%.1f", $0.pollsSavedPerSession) },
            row("webhook inbox wait p99") { $0.inboxWait.map { NumberText.orNoData($0.p99) { String(format: "%.1f ms", $0) } } ?? "-" },
            row("webhooks accepted") { count($0.counts.receipts, WebhookReceipt.accepted.rawValue) },
            row("webhook duplicates") { count($0.counts.notices, SessionMachine.NoticeKind.duplicate.rawValue) },
            row("webhook retries seen") { String($0.counts.retriesSeen) },
        ]
        if s.contains(where: { ($0.webhooks?.counts.notices[SessionMachine.NoticeKind.outOfOrder.rawValue] ?? 0) > 0 }) {
            rows.append(row("webhooks out of order") { count($0.counts.notices, SessionMachine.NoticeKind.outOfOrder.rawValue) })
        }
        for receipt in WebhookReceipt.allCases where receipt != .accepted && s.contains(where: { ($0.webhooks?.counts.receipts[receipt.rawValue] ?? 0) > 0 }) {
            rows.append(row("webhooks refused: \(receipt.rawValue)") { count($0.counts.receipts, receipt.rawValue) })
        }
        return rows
    }

    /// One line that says what the run was.
    public static func caption(_ record: RunRecord) -> String {
        let run = record.run
        var parts = [
            "target \(run.target)", "\(run.sessionsPerStrategy) sessions per strategy", "arrival \(run.arrival)",
            "seed \(run.seed)", "time scale \(run.timeScale)x" + (run.timeScaleAnnounced == true ? " (announced by the target, adopted)" : ""), "\(run.mode)",
        ]
        parts.append("caps \(Int(run.caps.requestsPerSecond)) req/s, \(Int(run.caps.wallSeconds)) s")
        if let budget = run.budget { parts.append("sandbox budget \(NumberText.short(budget.rate))/s, burst \(budget.burst)") }
        if let shard = run.shard { parts.append("shard \(shard)") }
        if let merged = run.merged { parts.append("merged from \(merged.indices.count) of \(merged.count) shards") }
        if run.simulated { parts.append("simulated") }
        if run.partial { parts.append("PARTIAL") }
        return parts.joined(separator: ", ")
    }

    /// The estimated offset of a remote service's clock, by which detection lag was corrected (none when shared).
    public static func clockOffsetLines(_ record: RunRecord) -> [String] {
        guard let offset = record.clockOffset, !offset.exact else { return [] }
        if let ratio = offset.rateRatio {
            let unknown = record.strategies.reduce(0) { $0 + $1.detectionLagUnknown }
            return ["✗ the service's clock runs at \(NumberText.twoDecimals(ratio))× the client's (the creates' bounds on the offset drift apart by more than 500 ppm, or the clock stepped): no offset applies, and the detection lag of \(unknown) sessions is not computed"]
        }
        return [String(format: "clock offset (service − client): %.2f ms ± %.2f ms; detection lag corrected by it", offset.offsetMillis, offset.uncertaintyMillis)]
    }

    /// The harness's own load in one line, and the warning when it limited the measurement (live runs).
    public static func harnessLines(_ record: RunRecord) -> [String] {
        guard let harness = record.harness else { return record.shardHarnessWarnings ?? [] }
        let seconds = max(1, harness.seconds.count)
        let cpu = 100 * harness.cpuSeconds / Double(seconds * harness.cores)
        let busiest = 100 * Double(harness.seconds.map(\.busiestLoopCPUMicros).max() ?? 0) / 1e6
        let line = "harness: CPU \(Int(cpu.rounded())) % of \(harness.coresPhrase) (busiest loop thread peak \(Int(busiest.rounded())) % of one), "
            + "loop lag p99 \(NumberText.orNoData(harness.loopLag.p99) { NumberText.twoDecimals($0) + " ms" }), "
            + "answers' wait in their sockets ≤ \(NumberText.orNoData(harness.socketWaitBound?.p99) { NumberText.twoDecimals($0) + " ms" }) (p99 over time), "
            + "\(harness.connectionWait.count) of \(harness.requests) requests waited for a connection (p99 \(NumberText.orNoData(harness.connectionWait.p99) { NumberText.twoDecimals($0) + " ms" })), "
            + (harness.rateCapWait.map { held in "\(held.count) held back by the rate cap (p99 \(NumberText.orNoData(held.p99) { NumberText.twoDecimals($0) + " ms" })), " } ?? "")
            + "peaks: \(harness.peakInFlight) in flight, \(harness.peakOpenConnections) connections open"
        return [line] + [harness.warning].compactMap { $0 }
    }

    /// One line per threshold: met or failed, with the measured value (a shard's for information only).
    public static func thresholdLines(_ record: RunRecord) -> [String] {
        let note = record.run.shard.map { ["thresholds of shard \($0) alone, for information: the verdict is the merged run's (pollbench merge)"] } ?? []
        return note + record.thresholds.map { result in
            "\(result.verdict) \(result.threshold) [\(result.strategy)]: measured \(result.measured)"
        }
    }

    /// One line per strategy that measured nothing, with how its sessions ended instead.
    public static func measuredNothingLines(_ record: RunRecord) -> [String] {
        record.strategiesThatMeasuredNothing.map { summary in
            let ends = summary.outcomes.filter { $0.value > 0 }.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            return "✗ \(summary.name) measured nothing: none of its \(summary.sessions) sessions saw a terminal status (\(ends))"
        }
    }

    /// What the ground-truth check found, and the faults the sandbox injected.
    public static func groundTruthLine(_ record: RunRecord) -> String {
        guard record.groundTruthChecked else { return "ground truth: not available for this target" }
        var line = record.groundTruthDifferences.isEmpty
            ? "ground truth: client and sandbox counts agree"
            : "ground truth: \(record.groundTruthDifferences.count) difference(s): " + record.groundTruthDifferences.joined(separator: "; ")
        if !record.sandboxFaults.isEmpty {
            line += "; faults injected: " + record.sandboxFaults.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        if let sent = record.sandboxWebhooks {
            line += "; webhooks: \(sent.events) status changes, \(sent.lost) lost, \(sent.duplicated) duplicated, \(sent.attempts) attempts"
                + " (\(sent.delivered) delivered, \(sent.failed) failed, \(sent.inOutage) in an outage, \(sent.badSignatures) badly signed), \(sent.retries) retries, \(sent.gaveUp) given up"
        }
        if let receiver = record.webhookReceiver {
            line += "; receiver: \(receiver.received) deliveries, " + receiver.receipts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                + (receiver.unroutable > 0 ? ", \(receiver.unroutable) for a finished round" : "")
        }
        return line
    }
}

/// The comparison as a fixed-width text table for the terminal.
public enum TerminalTable {
    public static func render(_ record: RunRecord) -> String {
        let (header, rows) = SummaryRows.table(record)
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == 0 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        return ([SummaryRows.caption(record), line(header), rule] + rows.map(line) + [SummaryRows.groundTruthLine(record)] + SummaryRows.clockOffsetLines(record)
            + SummaryRows.harnessLines(record) + SummaryRows.thresholdLines(record) + SummaryRows.measuredNothingLines(record))
            .joined(separator: "\n")
    }
}

/// The comparison as Markdown (summary.md).
public enum SummaryMarkdown {
    public static func render(_ record: RunRecord) -> String {
        let (header, rows) = SummaryRows.table(record)
        var lines = [
            "# pollbench run: \(record.run.name)", "",
            "\(SummaryRows.caption(record)); started \(record.run.startedAt), \(String(format: "%.1f", record.run.wallSeconds)) s wall.", "",
            "Durations are model time (the service's clock, time scale \(record.run.timeScale)x) except request latency and slip, which are wall time.", "",
            "| " + header.joined(separator: " | ") + " |",
            "|" + header.indices.map { $0 == 0 ? "---" : "---:" }.joined(separator: "|") + "|",
        ]
        lines += rows.map { "| " + $0.joined(separator: " | ") + " |" }
        if let (header, rows) = SummaryRows.transportTable(record) {
            lines += ["", "Transfer phases (wall time; dns, connect and tls over the transfers that opened a connection):", ""]
            lines += ["| " + header.joined(separator: " | ") + " |", "|" + header.indices.map { $0 < 2 ? "---" : "---:" }.joined(separator: "|") + "|"]
            lines += rows.map { "| " + $0.joined(separator: " | ") + " |" }
        }
        lines += ["", SummaryRows.groundTruthLine(record)]
        if !record.thresholds.isEmpty { lines += [""] + SummaryRows.thresholdLines(record).map { "- " + $0 } }
        let nothing = SummaryRows.measuredNothingLines(record)
        if !nothing.isEmpty { lines += [""] + nothing.map { "- " + $0 } }
        lines += SummaryRows.clockOffsetLines(record)
        let harness = SummaryRows.harnessLines(record)
        if !harness.isEmpty { lines += [""] + harness.map { "- " + $0 } }
        return lines.joined(separator: "\n") + "\n"
    }
}
