import Foundation
import Histogram

/// Writes a run's files into its result directory. Every file goes to a temporary name first and is
/// renamed into place, so an interrupted write never leaves a truncated file.
public struct ResultWriter {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// `results/<UTC timestamp>-<name>` under `root`.
    public static func directory(root: String, name: String, startedMillis: Int64) -> URL {
        let stamp = ISO8601Millis.format(startedMillis).prefix(19).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        return URL(fileURLWithPath: root).appendingPathComponent("\(stamp)Z-\(safe)")
    }

    /// Writes summary.json, summary.md, the .hgrm files, one .hlog per strategy, timeseries.csv and report.html; returns the files written.
    @discardableResult
    public func writeAll(record: RunRecord, results: [StrategyResult], startEpochSeconds: Double) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written = [try write("summary.json", Self.json(record))]
        written.append(try write("summary.md", Data(SummaryMarkdown.render(record).utf8)))
        for result in results {
            let exports = Self.exports(result).filter { $0.1.totalCount > 0 }
            for (metric, histogram, divisor) in exports {
                var text = ""
                histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: divisor)
                written.append(try write("\(result.strategy.fileName)-\(metric).hgrm", Data(text.utf8)))
            }
            let entries = exports.map { HistogramLog.Entry(tag: $0.0, startSeconds: 0, lengthSeconds: record.run.wallSeconds, histogram: $0.1) }
            written.append(try write("\(result.strategy.fileName).hlog", Data(HistogramLog.write(entries, startEpochSeconds: startEpochSeconds).utf8)))
        }
        written.append(try write("timeseries.csv", Data(Self.timeseries(results).utf8)))
        written.append(try write("report.html", Data(HTMLReport.render(record, series: results.map(ReportSeries.init)).utf8)))
        return written
    }

    /// Rewrites report.html and summary.md from what the directory holds (`pollbench report`).
    public func rebuildReport() throws -> [String] {
        let contents = try RunDirectory.read(directory)
        return [
            try write("summary.md", Data(SummaryMarkdown.render(contents.record).utf8)),
            try write("report.html", Data(HTMLReport.render(contents.record, series: contents.series).utf8)),
        ]
    }

    /// The histograms exported (as .hgrm, with the divisor that turns their µs into the file's unit, ms;
    /// and tagged by metric in the .hlog, in µs).
    static func exports(_ result: StrategyResult) -> [(String, Histogram<UInt64>, Double)] {
        var list: [(String, Histogram<UInt64>, Double)] = [
            ("detection-lag", result.detectionLag, 1_000),
            ("time-to-result", result.recorder.timeToResult, 1_000),
            ("polls-per-session", result.recorder.pollsPerSession, 1),
            ("schedule-slip", result.recorder.slip, 1_000),
        ]
        for endpoint in Endpoint.allCases {
            if let histogram = result.recorder.latencyFromIntended[endpoint] { list.append(("\(endpoint.rawValue)-latency", histogram, 1_000)) }
            if let histogram = result.recorder.latencyFromSent[endpoint] { list.append(("\(endpoint.rawValue)-latency-uncorrected", histogram, 1_000)) }
        }
        return list
    }

    /// One row per strategy and wall second: requests, 429s, sessions started and ended, sessions active.
    static func timeseries(_ results: [StrategyResult]) -> String {
        var lines = ["strategy,second,requests,http_429,started,ended,active"]
        for result in results {
            var active = 0
            for (second, bucket) in result.recorder.seconds.enumerated() {
                active += bucket.started - bucket.ended
                // Strategy names contain commas: quoted, as RFC 4180 has it.
                lines.append("\"\(result.strategy.name)\",\(second),\(bucket.requests),\(bucket.rateLimited),\(bucket.started),\(bucket.ended),\(active)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `value` as pretty JSON with sorted keys, as every pollbench JSON file is written.
    public static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }

    /// Writes other files (a sweep's, a plan's) into the directory, creating it; returns their names.
    @discardableResult
    public func write(_ files: [(name: String, data: Data)]) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try files.map { try write($0.name, $0.data) }
    }

    private func write(_ name: String, _ data: Data) throws -> String {
        let final = directory.appendingPathComponent(name)
        let temporary = directory.appendingPathComponent(".\(name).tmp-\(getpid())")
        try data.write(to: temporary)
        guard rename(temporary.path, final.path) == 0 else {  // rename(2) replaces the old file atomically
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: final.path])
        }
        return name
    }
}
