import Foundation
import Histogram
import PollBenchRules

/// Writes a run's files into its result directory. Every file goes to a temporary name first and is
/// renamed into place, so an interrupted write never leaves a truncated file.
public struct ResultWriter {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// A new run directory `<UTC timestamp>-<name>` under `root`, created exclusively (`mkdir(2)`, which
    /// fails on an existing name), so that no run is ever written into another's. A name already
    /// taken (two runs in the same second) gets `-2`, `-3`, … `root` is created when missing.
    public static func createRunDirectory(root: String, name: String, startedMillis: Int64) throws(RunDirectoryError) -> URL {
        let stamp = ISO8601Millis.format(startedMillis).prefix(19).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        return try createExclusively(URL(fileURLWithPath: root).appendingPathComponent("\(stamp)Z-\(safe)"), suffixing: true)
    }

    /// Creates `directory` itself, which must not exist (its parent is created when missing); with
    /// `suffixing`, a taken name gets the first free `-2`, `-3`, … instead of failing.
    public static func createExclusively(_ directory: URL, suffixing: Bool = false) throws(RunDirectoryError) -> URL {
        let parent = directory.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw RunDirectoryError(description: "cannot create \(parent.path): \(error.localizedDescription)")
        }
        for attempt in 1...1_000 {
            let candidate = attempt == 1 ? directory : URL(fileURLWithPath: directory.path + "-\(attempt)")
            if mkdir(candidate.path, 0o755) == 0 { return candidate }
            guard errno == EEXIST, suffixing else {
                let reason = errno == EEXIST ? "it already exists; a run is never written into another's directory" : String(cString: strerror(errno))
                throw RunDirectoryError(description: "cannot create \(candidate.path): \(reason)")
            }
        }
        throw RunDirectoryError(description: "cannot create \(directory.path): 1,000 runs of that name in the same second")
    }

    /// Writes summary.json, one .hlog per strategy (every metric per interval), timeseries.csv, sessions.csv,
    /// and what derives from them: summary.md, the .hgrm files and report.html. Returns the files written.
    /// - Parameter sessions: a merge's rows, read from its shards; nil: the results' own sessions.
    @discardableResult
    public func writeAll(record: RunRecord, results: [StrategyResult], startEpochSeconds: Double, sessions: [SessionRow]? = nil) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written = [try write("summary.json", Self.json(record))]
        let series = results.map(ReportSeries.init)
        for (result, series) in zip(results, series) {
            written.append(try write("\(result.strategy.fileName).hlog", Data(HistogramLog.write(series.entries, startEpochSeconds: startEpochSeconds).utf8)))
        }
        written.append(try write("timeseries.csv", Data(Self.timeseries(results).utf8)))
        written.append(try write("sessions.csv", Data(SessionsCSV.write(sessions ?? SessionsCSV.rows(results)).utf8)))
        return written + (try writeDerived(record, series))
    }

    /// Rewrites every file that derives from summary.json, the .hlog files and timeseries.csv (`pollbench report`).
    public func rebuildReport() throws -> [String] {
        let contents = try RunDirectory.read(directory)
        return try writeDerived(contents.record, contents.series)
    }

    /// summary.md, each strategy's .hgrm files (its whole-run histograms: the intervals added) and report.html.
    private func writeDerived(_ record: RunRecord, _ series: [ReportSeries]) throws -> [String] {
        var written = [try write("summary.md", Data(SummaryMarkdown.render(record).utf8))]
        if let harness = record.harness { written.append(try write("harness.csv", Data(Self.harnessCSV(harness).utf8))) }
        for strategy in series {
            guard let fileName = (try? PollStrategy(parsing: strategy.name))?.fileName else { continue }
            for metric in Metric.all {
                let histogram = strategy.histogram(metric)
                guard histogram.totalCount > 0 else { continue }
                var text = ""
                histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: metric.divisor)
                written.append(try write("\(fileName)-\(metric.tag).hgrm", Data(text.utf8)))
            }
        }
        written.append(try write("report.html", Data(HTMLReport.render(record, series: series).utf8)))
        return written
    }

    /// One row per strategy and interval (a wall second live, a model second simulated) in which anything
    /// happened: requests, 429s, sessions started and ended, sessions active. An idle second has no row
    /// (its counts are 0 and `active` is the row before's), so idle model time costs no output.
    static func timeseries(_ results: [StrategyResult]) -> String {
        var lines = ["strategy,second,requests,http_429,started,ended,active"]
        for result in results {
            var active = 0
            for (second, bucket) in result.recorder.seconds.enumerated() where bucket != SecondBucket() {
                active += bucket.started - bucket.ended
                // Strategy names contain commas: quoted, as RFC 4180 has it.
                lines.append("\"\(result.strategy.name)\",\(second),\(bucket.requests),\(bucket.rateLimited),\(bucket.started),\(bucket.ended),\(active)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per wall second of a live run: the harness's own load (timeseries.csv's rows are per
    /// strategy and round; these are the run's, whichever strategies ran in that second).
    static func harnessCSV(_ harness: HarnessHealth) -> String {
        var lines = ["second,process_cpu_ms,loop_cpu_ms,busiest_loop_cpu_ms,loop_lag_max_ms,connection_waits,connection_wait_max_ms,in_flight_peak,waiting_peak,open_connections_peak,busy_turn_max_ms"]
        for s in harness.seconds {
            func millis(_ micros: Int64) -> String { String(format: "%.3f", Double(micros) / 1e3) }
            lines.append("\(s.second),\(millis(s.processCPUMicros)),\(millis(s.loopCPUMicros)),\(millis(s.busiestLoopCPUMicros)),\(millis(s.loopLagMaxMicros)),"
                + "\(s.connectionWaits),\(millis(s.connectionWaitMaxMicros)),\(s.inFlightPeak),\(s.waitingPeak),\(s.openConnectionsPeak),"
                + (s.busyTurnMaxMicros.map(millis) ?? ""))  // empty: not measured
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

/// A run directory that could not be made: one line saying which and why.
public struct RunDirectoryError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
