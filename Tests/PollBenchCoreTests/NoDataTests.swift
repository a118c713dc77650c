import Foundation
import Histogram
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

/// An empty distribution is no data: null in summary.json, a dash in tables, "no data" to thresholds
/// and comparisons, never a 0 that reads like a measurement.
@Suite("No data is not zero")
struct NoDataTests {
    /// The sample record with its first strategy's detection lag emptied, as when no session saw its end.
    static func recordWithoutLag() throws -> RunRecord {
        var record = try SampleRecord.make()
        record.strategies[0].detectionLag = Distribution(Histogram<UInt64>(highestTrackableValue: 1_000_000, numberOfSignificantValueDigits: .three), unit: "model-ms", divisor: 1_000)
        return record
    }

    @Test("an empty distribution writes every statistic as null, and reads back as no data")
    func json() throws {
        let record = try Self.recordWithoutLag()
        let text = String(decoding: try ResultWriter.json(record), as: UTF8.self)
        #expect(text.contains(#""count" : 0,"#) && text.contains(#""p50" : null"#) && text.contains(#""max" : null"#))
        let back = try JSONDecoder().decode(RunRecord.self, from: Data(text.utf8))
        #expect(back.strategies[0].detectionLag.p99 == nil && back.strategies[0].detectionLag.count == 0)
        #expect(back.strategies[1].detectionLag.p99 == record.strategies[1].detectionLag.p99)
        // A record written before: zeros with count 0 read as no data.
        let old = #"{"unit":"model-ms","count":0,"mean":0,"min":0,"p50":0,"p90":0,"p99":0,"p999":0,"max":0}"#
        #expect(try JSONDecoder().decode(Distribution.self, from: Data(old.utf8)).p50 == nil)
    }

    @Test("tables show a dash; thresholds fail as no data; compare says no data instead of a regression")
    func readers() throws {
        let record = try Self.recordWithoutLag()
        let (_, rows) = SummaryRows.table(record)
        let lag = try #require(rows.first { $0[0] == "detection lag p99" })
        #expect(lag[1] == NumberText.noData && lag[2].hasSuffix(" s"))
        let verdict = try Threshold(parsing: "p99(detection_lag) < 1h").evaluate(record.strategies[0])
        #expect(!verdict.passed && verdict.measured == Threshold.noData)

        let base = try SampleRecord.make()
        let comparison = RunComparison(base: base, new: record, tolerance: 0.05)
        let row = try #require(comparison.rows.first { $0.strategy == "fixed:3s" && $0.metric == "detection lag p99" })
        #expect(row.verdict == .noData && row.new == nil && row.base != nil)
        #expect(!comparison.rows.contains { $0.verdict == .regressed && $0.metric.hasPrefix("detection lag") })
        #expect(comparison.markdown(baseName: "a", newName: "b").contains("| fixed:3s | detection lag p99 | "))
        #expect(comparison.markdown(baseName: "a", newName: "b").contains("no data: not judged"))
    }

    @Test("a frozen clock's slightly negative rate prints as 0.00, never -0.00", arguments: [(-0.0004, "0.00"), (0.0, "0.00"), (-0.006, "-0.01"), (19.996, "20.00")])
    func twoDecimals(value: Double, text: String) {
        #expect(NumberText.twoDecimals(value) == text)
    }

    @Test("a strategy none of whose sessions saw a terminal status measured nothing, and the run fails")
    func measuredNothing() throws {
        var record = try SampleRecord.make()
        #expect(record.strategiesThatMeasuredNothing.isEmpty && !record.fails)
        let sessions = record.strategies[1].sessions
        record.strategies[1].outcomes = Dictionary(uniqueKeysWithValues: SessionOutcome.allCases.map { ($0.rawValue, $0 == .clientTimeout ? sessions : 0) })
        #expect(record.strategiesThatMeasuredNothing.map(\.name) == ["exp:1s,x2,max30s"])
        #expect(record.fails)
        #expect(SummaryRows.measuredNothingLines(record) == ["✗ exp:1s,x2,max30s measured nothing: none of its \(sessions) sessions saw a terminal status (\(sessions) client-timeout)"])
        #expect(TerminalTable.render(record).contains("measured nothing"))
        // A shard's verdict is its merge's.
        record.run.shard = try Shard(parsing: "0/2")
        #expect(!record.fails)
    }

    @Test("the fast simulation skips wall-clock thresholds and says so; the engine simulation judges them")
    func skippedThresholds() throws {
        var suite = Suite(name: "t", description: "", workload: Workload(sessions: 20, arrival: .constant(perSecond: 5), seed: 1))
        suite.strategies = [.fixed(intervalMillis: 1_000)]
        suite.checks = [Suite.Check(strategy: nil, threshold: try Threshold(parsing: "p99(latency_status) < 1s")), Suite.Check(strategy: nil, threshold: try Threshold(parsing: "count(error) == 0"))]
        let fast = FastSimulation(suite: suite, roundTrip: .constant(.milliseconds(1))).record(name: "fast").record
        #expect(fast.thresholds.map(\.skipped) == ["the fast simulation measures no wall-clock latency", nil])
        #expect(fast.thresholdsPassed)
        #expect(SummaryRows.thresholdLines(fast)[0].hasPrefix("– skipped (the fast simulation measures no wall-clock latency) p99(latency_status) < 1s"))
        #expect(JUnitReport.render(JUnitReport.cases(fast), name: "t").contains("<skipped message=\"the fast simulation measures no wall-clock latency\"/>"))
        let engine = Simulation(suite: suite, roundTrip: .constant(.milliseconds(1)), name: "engine").run().record
        #expect(engine.thresholds.allSatisfy { $0.skipped == nil && $0.passed })
    }

    @Test("a suite's thresholds for strategies an override leaves out are listed")
    func droppedChecks() throws {
        var suite = Suite(name: "t", description: "", workload: Workload(sessions: 20, arrival: .constant(perSecond: 5), seed: 1))
        suite.checks = [Suite.Check(strategy: "fixed:3s", threshold: try Threshold(parsing: "p99(detection_lag) < 4s")), Suite.Check(strategy: nil, threshold: try Threshold(parsing: "count(error) == 0"))]
        #expect(suite.checksForStrategiesNotRun.isEmpty)
        suite.strategies = [.fixed(intervalMillis: 5_000)]
        #expect(suite.checksForStrategiesNotRun.map(\.threshold.expression) == ["p99(detection_lag) < 4s"])
    }
}
