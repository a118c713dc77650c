import Foundation
import Histogram
import PollBenchRules

/// Merges the run directories of a sharded run into one run: counters summed, every histogram added
/// from the shards' interval logs on absolute time (so each percentile comes from the merged histogram),
/// per-interval counts added by second, and the suite's thresholds judged once, on the merged result.
public struct ShardMerge {
    /// A shard's run, as its directory holds it.
    public struct Part {
        public var name: String
        public var contents: RunDirectory.Contents

        public init(name: String, contents: RunDirectory.Contents) {
            self.name = name
            self.contents = contents
        }
    }

    /// Why shards cannot be merged: one line.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    public let record: RunRecord
    public let results: [StrategyResult]
    /// The merged log's start: the earliest shard's.
    public let startEpochSeconds: Double
    /// Every shard's sessions, in strategy order, then by create time and key.
    public let sessions: [SessionRow]

    /// Merges `parts` (a merge's own output counts as its shards, so merging is associative).
    /// - Parameter allowPartial: merge an interrupted shard or a missing one and mark the result partial, instead of refusing.
    public init(_ parts: [Part], allowPartial: Bool) throws(Problem) {
        guard let first = parts.first else { throw Problem(description: "nothing to merge") }
        let covered = try Self.check(parts, allowPartial: allowPartial)  // the shard indices, of how many
        let base = parts.compactMap(\.contents.startEpochSeconds).min() ?? 0
        var merged = [StrategyRecorder](repeating: StrategyRecorder(), count: first.contents.record.strategies.count)
        var lagUnknown = [Int](repeating: 0, count: merged.count)
        for part in parts {
            let shift = (part.contents.startEpochSeconds ?? base) - base
            for (index, summary) in part.contents.record.strategies.enumerated() {
                merged[index].merge(Self.recorder(summary, series: part.contents.series.first { $0.name == summary.name }, shift: shift))
                lagUnknown[index] += summary.detectionLagUnknown
            }
        }
        let strategies = first.contents.record.strategies.map { (try? PollStrategy(parsing: $0.name)) ?? .fixed(intervalMillis: 3_000) }
        let timeline = IntervalTimeline(offsetSeconds: 0, originModelMicros: Int64(base * 1e6), modelMicrosPerInterval: 1e6)
        results = zip(strategies, merged).map { StrategyResult(strategy: $0, recorder: $1, timeline: timeline) }
        var info = first.contents.record.run
        info.shard = nil
        info.merged = MergedShards(indices: covered.indices, count: covered.total, interrupted: covered.interrupted)
        info.partial = covered.interrupted || covered.indices.count < covered.total
        info.wallSeconds = parts.map(\.contents.record.run.wallSeconds).max() ?? 0
        info.startedAt = parts.map(\.contents.record.run.startedAt).min() ?? info.startedAt
        info.caps.requestsPerSecond = parts.reduce(0) { $0 + $1.contents.record.run.caps.requestsPerSecond }
        var record = RunRecordBuilder(info: info).record(results, clockOffset: Self.clockOffset(parts), lagUnknown: lagUnknown, truth: nil)
        let records = parts.map(\.contents.record)
        record.groundTruthChecked = records.allSatisfy(\.groundTruthChecked)
        record.groundTruthDifferences = zip(parts, records).flatMap { part, shard in shard.groundTruthDifferences.map { "\(part.name): \($0)" } }
        record.sandboxFaults = records.reduce(into: [:]) { $0.merge($1.sandboxFaults, uniquingKeysWith: +) }
        record.webhookReceiver = records.compactMap(\.webhookReceiver).reduce(nil) { total, next in total.map { $0.adding(next) } ?? next }
        record.sandboxWebhooks = records.compactMap(\.sandboxWebhooks).reduce(nil) { total, next in total.map { $0.adding(next) } ?? next }
        record.thresholds = Self.judge(first.contents.record.thresholds, on: record)
        record.compareTolerance = first.contents.record.compareTolerance
        // Each shard's harness is its own machine's: not added up, but a shard that limited its own
        // measurement is never hidden by the merge (a merge of merges keeps its parts' lines).
        let warnings = zip(parts, records).flatMap { part, shard in
            (shard.harness?.warning.map { ["\(part.name): \($0)"] } ?? []) + (shard.shardHarnessWarnings ?? [])
        }
        record.shardHarnessWarnings = warnings.isEmpty ? nil : warnings
        self.record = record
        startEpochSeconds = base
        let order = Dictionary(record.strategies.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        sessions = parts.flatMap(\.contents.sessions).sorted {
            (order[$0.strategy] ?? .max, $0.createdMillis, $0.key) < (order[$1.strategy] ?? .max, $1.createdMillis, $1.key)
        }
    }

    /// Refuses shards of different runs, a shard named twice, a missing one and (unless allowed) a
    /// partial one; returns which shards the parts cover, of how many.
    private static func check(_ parts: [Part], allowPartial: Bool) throws(Problem) -> (indices: [Int], total: Int, interrupted: Bool) {
        let first = parts[0].contents.record.run
        var seen: [Int: String] = [:]
        var total: Int?
        var interrupted = false
        for part in parts {
            let run = part.contents.record.run
            let names = part.contents.record.strategies.map(\.name), firstNames = parts[0].contents.record.strategies.map(\.name)
            for (what, same) in [
                ("pollbench version", run.pollbenchVersion == first.pollbenchVersion), ("suite", run.name == first.name), ("seed", run.seed == first.seed),
                ("strategies", names == firstNames), ("workload", run.sessionsPerStrategy == first.sessionsPerStrategy && run.arrival == first.arrival),
                ("time scale", run.timeScale == first.timeScale), ("mode", run.mode == first.mode), ("target", run.target == first.target),
                ("simulated or live", run.simulated == first.simulated),
            ] where !same {
                throw Problem(description: "\(part.name): another run's shard (its \(what) differs from \(parts[0].name)'s)")
            }
            let stopped = run.merged?.interrupted ?? run.partial
            if stopped && !allowPartial { throw Problem(description: "\(part.name): a partial shard (it was stopped early); give --allow-partial to merge it and mark the result partial") }
            interrupted = interrupted || stopped
            // A shard covers its index; a merge covers the shards it was merged from, listed in its record.
            let indices: [Int], count: Int
            if let shard = run.shard {
                (indices, count) = ([shard.index], shard.count)
            } else if let merged = run.merged {
                (indices, count) = (merged.indices, merged.count)
            } else {
                throw Problem(description: "\(part.name): not a shard of a sharded run (run it with --shard K/N or --shards N)")
            }
            if let total, total != count { throw Problem(description: "\(part.name): a shard of \(count), the others are of \(total)") }
            total = count
            for index in indices {
                if let earlier = seen[index] { throw Problem(description: "shard \(index)/\(count) named twice: \(earlier) and \(part.name)") }
                seen[index] = part.name
            }
        }
        let count = total ?? 1
        let missing = (0..<count).filter { seen[$0] == nil }
        if !missing.isEmpty && !allowPartial {
            throw Problem(description: "shard \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) missing; give --allow-partial to merge without it and mark the result partial")
        }
        return (seen.keys.sorted(), count, interrupted)
    }

    /// A shard's strategy as a recorder: its counters from its summary, its histograms from its log, each
    /// interval moved onto the merged run's seconds.
    static func recorder(_ summary: StrategySummary, series: ReportSeries?, shift: Double) -> StrategyRecorder {
        var recorder = StrategyRecorder()
        recorder.counters = RequestCounters(summary)
        for (name, count) in summary.outcomes { if let outcome = SessionOutcome(rawValue: name) { recorder.outcomes[outcome] = count } }
        recorder.webhooks = summary.webhooks?.counts ?? WebhookCounts()
        for entry in series?.entries ?? [] {
            guard let metric = Metric(tag: entry.tag) else { continue }
            recorder.add(metric, entry.histogram, interval: Int((entry.startSeconds + shift).rounded(.down)))
        }
        for (second, bucket) in (series?.seconds ?? []).enumerated() {
            let index = recorder.bucket(Int((Double(second) + shift).rounded(.down)))
            recorder.seconds[index].add(bucket)
        }
        return recorder
    }

    /// Exact when every shard's is (each ran against its own embedded sandbox); else the most certain shard's.
    static func clockOffset(_ parts: [Part]) -> ClockOffset? {
        let offsets = parts.compactMap(\.contents.record.clockOffset)
        if !offsets.isEmpty, offsets.allSatisfy(\.exact) { return offsets[0] }
        return offsets.filter { !$0.exact }.min { $0.uncertaintyMillis < $1.uncertaintyMillis }
    }

    /// Each threshold the shards were judged on, judged once on the merged result.
    static func judge(_ shardThresholds: [ThresholdResult], on record: RunRecord) -> [ThresholdResult] {
        var seen = Set<String>()
        return shardThresholds.compactMap { result -> ThresholdResult? in
            guard seen.insert(result.strategy + "\u{0}" + result.threshold).inserted, let threshold = try? Threshold(parsing: result.threshold),
                  let summary = record.strategies.first(where: { $0.name == result.strategy }) else { return nil }
            if let reason = result.skipped { return .skipped(threshold, strategy: result.strategy, because: reason) }
            let (passed, measured) = threshold.evaluate(summary)
            return ThresholdResult(strategy: result.strategy, threshold: result.threshold, measured: measured, passed: passed)
        }
    }
}

extension RequestCounters {
    /// The counters a summary reports.
    init(_ summary: StrategySummary) {
        self.init()
        requests = summary.requests
        byEndpoint = summary.responses
        apiErrorCodes = summary.apiErrorCodes
        transportErrors = summary.transportErrors
        malformedBodies = summary.malformedBodies
        rateLimited = summary.rateLimited
        retryAfterWaitMillis = Int64((summary.retryAfterWaitSeconds * 1_000).rounded())
        unknownStatuses = summary.unknownStatuses
        connections = summary.transport?.connections ?? ConnectionCounts()
    }
}

extension WebhookReceiverCounts {
    func adding(_ other: WebhookReceiverCounts) -> WebhookReceiverCounts {
        var sum = self
        sum.received += other.received
        sum.receipts.merge(other.receipts, uniquingKeysWith: +)
        sum.unroutable += other.unroutable
        return sum
    }
}
