import Foundation
import Histogram
import Testing
@testable import PollBenchCore

/// Sharded runs: the slices of the workload, and merging them exactly.
@Suite("Shards and their merge")
struct ShardTests {
    static func suite(shard: Shard? = nil) -> Suite {
        var suite = FastSimulationTests.suite(sessions: 120)
        suite.mixed = true
        suite.sandbox.faults.serverErrorRate = 0.02  // faults, drawn per user: the same whichever shard runs the user
        suite.rateLimit = nil  // one budget split into per-shard buckets is an approximation, not an exact merge
        suite.workload.shard = shard
        return suite
    }

    /// A run in virtual time, as its directory would hold it.
    static func part(_ suite: Suite, name: String) -> ShardMerge.Part {
        let (record, results) = FastSimulation(suite: suite, roundTrip: .constant(.milliseconds(1)), keepsIntervals: true).record(name: "shards")
        return ShardMerge.Part(name: name, contents: .init(record: record, series: results.map(ReportSeries.init), startEpochSeconds: Double(Simulation.startMillis) / 1_000))
    }

    @Test("the shards' slices partition the workload: every session in exactly one, at its unsharded arrival time")
    func partition() throws {
        let whole = Self.suite().workload.slots()
        var seen: [String: Int64?] = [:]
        for index in 0..<4 {
            let slice = Self.suite(shard: Shard(index: index, count: 4)).workload.slots()
            #expect(slice.map(\.index) == Array(slice.indices))  // numbered in the shard's own list
            #expect(slice.count > 15 && slice.count < 45)
            for slot in slice { #expect(seen.updateValue(slot.arrivalMillis, forKey: slot.key) == nil) }
        }
        #expect(seen.count == whole.count)
        #expect(whole.allSatisfy { seen[$0.key] == $0.arrivalMillis })
        #expect(throws: WorkloadError.self) { try Shard(parsing: "4/4") }
        #expect(try Shard(parsing: "3/4") == Shard(index: 3, count: 4) && Shard(index: 1, count: 4).share(of: 10) == 3 && Shard(index: 3, count: 4).share(of: 10) == 2)
    }

    @Test("four simulated shards merged equal the unsharded simulation: the same counts and, metric by metric, the same histograms")
    func mergedEqualsUnsharded() throws {
        let whole = Self.part(Self.suite(), name: "whole").contents
        let merged = try ShardMerge((0..<4).map { Self.part(Self.suite(shard: Shard(index: $0, count: 4)), name: "shard \($0)") }, allowPartial: false)
        #expect(merged.record.run.merged == MergedShards(indices: [0, 1, 2, 3], count: 4, interrupted: false) && !merged.record.run.partial)
        for (a, b) in zip(whole.record.strategies, merged.record.strategies) {
            #expect(a.name == b.name && a.sessions == 120 && b.sessions == 120)
            #expect(a.outcomes == b.outcomes && a.responses == b.responses && a.requests == b.requests && a.apiErrorCodes == b.apiErrorCodes)
            #expect(a.detectionLag.count == b.detectionLag.count && a.detectionLag.p99 == b.detectionLag.p99 && a.detectionLag.p50 == b.detectionLag.p50)
        }
        let mergedSeries = merged.results.map(ReportSeries.init)
        for (a, b) in zip(whole.series, mergedSeries) {
            for metric in [Metric.detectionLag, .timeToResult, .pollsPerSession] {
                #expect(Self.counts(a.histogram(metric)) == Self.counts(b.histogram(metric)), "\(a.name) \(metric.tag)")
                #expect(a.histogram(metric).totalCount > 0)
            }
            // Interval by interval too: the simulated shards share the start, so their seconds line up.
            let intervals = { (s: ReportSeries) in s.entries.filter { $0.tag == Metric.detectionLag.tag }.map { ($0.startSeconds, Self.counts($0.histogram)) } }
            #expect(intervals(a).map(\.0) == intervals(b).map(\.0) && intervals(a).map(\.1) == intervals(b).map(\.1))
            #expect(a.seconds == b.seconds)
        }
    }

    @Test("merging is associative: the two merged halves merged equal all four shards merged")
    func associative() throws {
        let shards = (0..<4).map { Self.part(Self.suite(shard: Shard(index: $0, count: 4)), name: "shard \($0)") }
        let all = try ShardMerge(shards, allowPartial: false)
        let halves = try [[0, 1], [2, 3]].map { pair in
            let half = try ShardMerge(pair.map { shards[$0] }, allowPartial: true)
            #expect(half.record.run.partial && half.record.run.merged?.indices == pair)
            return ShardMerge.Part(name: "half", contents: .init(record: half.record, series: half.results.map(ReportSeries.init), startEpochSeconds: half.startEpochSeconds))
        }
        let nested = try ShardMerge(halves, allowPartial: false)
        #expect(nested.record.strategies == all.record.strategies)
        #expect(nested.record.run.merged == all.record.run.merged && !nested.record.run.partial)
        for (a, b) in zip(all.results.map(ReportSeries.init), nested.results.map(ReportSeries.init)) {
            #expect(a.entries.map(\.tag) == b.entries.map(\.tag) && a.entries.map { Self.counts($0.histogram) } == b.entries.map { Self.counts($0.histogram) })
        }
    }

    @Test("a shard whose harness limited it keeps its warning through the merge, and through a merge of merges")
    func harnessWarningsSurvive() throws {
        var shards = (0..<2).map { Self.part(Self.suite(shard: Shard(index: $0, count: 2)), name: "shard \($0)") }
        let loaded = HarnessRecorderFixture.connectionBound()
        shards[1].contents.record.harness = HarnessHealth(recorders: [loaded], cores: 2, workers: 1, connectionsPerWorker: 2)
        let warning = try #require(shards[1].contents.record.harness?.warning)
        let merged = try ShardMerge(shards, allowPartial: false)
        #expect(merged.record.harness == nil && merged.record.shardHarnessWarnings == ["shard 1: \(warning)"])
        #expect(TerminalTable.render(merged.record).contains("\nshard 1: ⚠ the harness limited this measurement"))
        let again = try ShardMerge([ShardMerge.Part(name: "all", contents: .init(record: merged.record, series: merged.results.map(ReportSeries.init), startEpochSeconds: merged.startEpochSeconds))], allowPartial: false)
        #expect(again.record.shardHarnessWarnings == ["shard 1: \(warning)"])
        let quiet = try ShardMerge((0..<2).map { Self.part(Self.suite(shard: Shard(index: $0, count: 2)), name: "shard \($0)") }, allowPartial: false)
        #expect(quiet.record.shardHarnessWarnings == nil)
    }

    @Test("shards that do not make one run are refused with one line: missing, twice, partial, another run's, not a shard")
    func refused() throws {
        let shards = (0..<2).map { Self.part(Self.suite(shard: Shard(index: $0, count: 2)), name: "shard \($0)") }
        func problem(_ parts: [ShardMerge.Part], allowPartial: Bool = false) -> String {
            do { _ = try ShardMerge(parts, allowPartial: allowPartial); return "" } catch { return error.description }
        }
        #expect(problem([shards[0]]).contains("shard 1/2 missing"))
        #expect(problem([shards[0], shards[0], shards[1]]).contains("shard 0/2 named twice"))
        var stopped = shards[1]
        stopped.contents.record.run.partial = true
        #expect(problem([shards[0], stopped]).contains("a partial shard"))
        #expect(try ShardMerge([shards[0], stopped], allowPartial: true).record.run.partial)
        var other = shards[1]
        other.contents.record.run.seed = 9
        #expect(problem([shards[0], other]).contains("seed differs"))
        #expect(problem([Self.part(Self.suite(), name: "whole")]).contains("not a shard"))
        #expect(problem([]).contains("nothing to merge"))
    }

    /// A histogram's counts by value, for comparing histograms whatever their configuration.
    static func counts(_ histogram: Histogram<UInt64>) -> [UInt64: UInt64] {
        Dictionary(uniqueKeysWithValues: histogram.recordedValues().map { (histogram.lowestEquivalentForValue($0.value), $0.count) })
    }
}
