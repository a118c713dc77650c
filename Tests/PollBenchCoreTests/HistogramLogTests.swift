import Foundation
import Histogram
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

@Suite("HdrHistogram interval log and .hgrm")
struct HistogramLogTests {
    func sample(seed: UInt64, count: Int) -> Histogram<UInt64> {
        var histogram = Histograms.micros()
        var random = SplitMix64(seed: seed)
        let distribution = LogNormal(median: 2_000, p95: 40_000)
        for _ in 0..<count { _ = histogram.record(UInt64(max(1, distribution.sample(&random)))) }
        return histogram
    }

    @Test("ZigZag LEB128 round-trips across the word range", arguments: [Int64(0), 1, -1, 63, -64, 64, 300, -2_048, 1 << 40, Int64.max, Int64.min])
    func zigzag(value: Int64) {
        var bytes: [UInt8] = []
        ZigZag.put(value, into: &bytes)
        var reader = BigEndian.Reader(bytes: bytes)
        #expect(ZigZag.get(&reader) == value)
        #expect(reader.offset == bytes.count && bytes.count <= 9)
    }

    @Test("a growing histogram (one interval's) survives encoding, values past its declared range included")
    func growing() throws {
        var histogram = Histograms.growing()
        for value in [UInt64(1), 5, 900, 2_047, 2_048, 70_000, 3_000_000] { _ = histogram.record(value) }
        let decoded = try #require(HistogramLog.decodeCompressed([UInt8](HistogramLog.compressedEncoding(histogram))))
        #expect(decoded.totalCount == 7)
        #expect(decoded.recordedValues().map(\.value) == histogram.recordedValues().map(\.value))
    }

    /// A run's log holds every value once, in the interval it was recorded: the intervals add up to the
    /// whole run's histogram of each metric, and they sit on absolute time, one round after the other.
    @Test("a run's .hlog: per-interval histograms that add up to the run's totals, on absolute time")
    func runLog() throws {
        var suite = Suite(name: "log", description: "", workload: Workload(sessions: 60, arrival: .constant(perSecond: 3), seed: 2))
        suite.strategies = [.fixed(intervalMillis: 2_000), .exponential(initialMillis: 1_000, multiplier: 2, maxMillis: 30_000)]
        let (record, results) = Simulation(suite: suite, roundTrip: .constant(.milliseconds(1)), name: "log").run()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pollbench-hlog-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        try ResultWriter(directory: directory).writeAll(record: record, results: results, startEpochSeconds: Double(Simulation.startMillis) / 1_000)
        var previousStart = -1.0
        for result in results {
            let text = try String(contentsOf: directory.appendingPathComponent("\(result.strategy.fileName).hlog"), encoding: .utf8)
            #expect(text.contains("#[BaseTime: \(String(format: "%.3f", Double(Simulation.startMillis) / 1_000)) (seconds since epoch)]"))
            let entries = try #require(HistogramLog.read(text))
            let totals = HistogramLog.totals(entries)
            for metric in Metric.all where result.recorder.histogram(metric).totalCount > 0 {
                #expect(totals[metric.tag] == result.recorder.histogram(metric), "\(metric.tag)")
                #expect(entries.filter { $0.tag == metric.tag }.count > 1, "\(metric.tag): one interval only")
            }
            let starts = entries.map(\.startSeconds)
            #expect(starts.min()! > previousStart)  // the second strategy's round follows the first's
            previousStart = starts.max()!
            // A window holds exactly the intervals that start in it.
            let window = HistogramLog.totals(entries, window: (starts.min()! + 5)..<(starts.min()! + 10))
            #expect(window["status-latency"]?.totalCount == entries.filter { $0.tag == "status-latency" && (starts.min()! + 5)..<(starts.min()! + 10) ~= $0.startSeconds }.reduce(0) { $0 + $1.histogram.totalCount })
        }
    }

    @Test("a V2-encoded histogram decodes to an equal one")
    func encoding() throws {
        let histogram = sample(seed: 1, count: 10_000)
        let decoded = try #require(HistogramLog.decodeCompressed([UInt8](HistogramLog.compressedEncoding(histogram))))
        #expect(decoded.totalCount == histogram.totalCount)
        // Values come back as their bucket's representative: equal to HdrHistogram's resolution.
        for percentile in [0.0, 50, 90, 99, 99.9, 100] {
            #expect(decoded.valuesAreEquivalent(decoded.valueAtPercentile(percentile), histogram.valueAtPercentile(percentile)))
        }
        #expect(decoded.valuesAreEquivalent(decoded.max, histogram.max))
    }

    @Test("the compressed header carries the V2 cookies, and the base64 starts as HdrHistogram's own logs do")
    func cookies() {
        let encoded = HistogramLog.compressedEncoding(sample(seed: 2, count: 100))
        #expect(Array(encoded.prefix(4)) == [0x1C, 0x84, 0x93, 0x14])
        #expect(encoded.base64EncodedString().hasPrefix("HISTFAAA"))
        #expect(Array(HistogramLog.encoding(sample(seed: 2, count: 100)).prefix(4)) == [0x1C, 0x84, 0x93, 0x13])
    }

    @Test("a log round-trips through our reader: tags, intervals and histograms")
    func log() throws {
        let lag = sample(seed: 3, count: 5_000), latency = sample(seed: 4, count: 20_000)
        let text = HistogramLog.write(
            [HistogramLog.Entry(tag: "detection-lag", startSeconds: 0, lengthSeconds: 12.5, histogram: lag),
             HistogramLog.Entry(tag: "status-latency", startSeconds: 0, lengthSeconds: 12.5, histogram: latency)],
            startEpochSeconds: 1_795_618_800
        )
        #expect(text.hasPrefix("#[Histogram log format version 1.3]\n#[StartTime: 1795618800.000 (seconds since epoch)"))
        let entries = try #require(HistogramLog.read(text))
        #expect(entries.map(\.tag) == ["detection-lag", "status-latency"])
        #expect(entries.allSatisfy { $0.lengthSeconds == 12.5 })
        #expect(lag.valuesAreEquivalent(entries[0].histogram.valueAtPercentile(99), lag.valueAtPercentile(99)))
        #expect(entries[1].histogram.totalCount == 20_000)
        #expect(HistogramLog.read(text.replacingOccurrences(of: "HISTFAAA", with: "HISTFXXX")) == nil)
    }

    @Test(".hgrm text reads back to the histogram's percentiles")
    func hgrm() throws {
        let histogram = sample(seed: 5, count: 3_000)
        var text = ""
        histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1_000)
        let reader = try #require(HgrmReader(text))
        #expect(reader.totalCount == 3_000)
        for percentile in [50.0, 90] {  // percentiles that are rows of the file (ticks: 5 per half distance)
            let expected = Double(histogram.valueAtPercentile(percentile)) / 1_000
            #expect(abs((reader.value(atPercentile: percentile) ?? 0) - expected) <= 0.001)
        }
        #expect(abs((reader.mean ?? 0) - histogram.mean / 1_000) < 0.001)
        #expect(abs((reader.max ?? 0) - Double(histogram.max) / 1_000) <= Double(histogram.max) / 1_000 * 0.001)
        #expect(HgrmReader("not a histogram") == nil)
    }
}
