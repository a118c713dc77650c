import Foundation
import PollBenchRules

/// Reads back what a run directory holds: summary.json, each strategy's .hlog, timeseries.csv and sessions.csv.
public enum RunDirectory {
    public struct Contents {
        public var record: RunRecord
        public var series: [ReportSeries]
        /// The logs' start time (seconds since the epoch); nil when no strategy has a log.
        public var startEpochSeconds: Double?
        /// Each session's row (none when the run wrote no sessions.csv: one from before it existed).
        public var sessions: [SessionRow]

        public init(record: RunRecord, series: [ReportSeries], startEpochSeconds: Double?, sessions: [SessionRow] = []) {
            self.record = record
            self.series = series
            self.startEpochSeconds = startEpochSeconds
            self.sessions = sessions
        }
    }

    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// A run's summary.json, named by its run directory, the file itself or a baseline saved under
    /// `output`/baselines; with the file's path.
    public static func summary(_ reference: String, output: String) throws(ReadError) -> (record: RunRecord, file: String) {
        var path = reference
        if !FileManager.default.fileExists(atPath: path) {
            path = URL(fileURLWithPath: output).appendingPathComponent("baselines").appendingPathComponent(reference).path
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReadError(description: "'\(reference)' is neither a run directory, a summary.json nor a saved baseline")
        }
        let file = isDirectory.boolValue ? URL(fileURLWithPath: path).appendingPathComponent("summary.json").path : path
        return (try record(file), file)
    }

    /// The newest run directory under `output` (run directories' names start with their UTC time).
    public static func latest(in output: String) throws(ReadError) -> String {
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
        let candidates = runs.filter { FileManager.default.fileExists(atPath: "\(output)/\($0)/summary.json") }.sorted()
        guard let newest = candidates.last else { throw ReadError(description: "no run found in \(output)/") }
        return "\(output)/\(newest)"
    }

    /// The record in a summary.json.
    static func record(_ file: String) throws(ReadError) -> RunRecord {
        guard let data = FileManager.default.contents(atPath: file) else { throw ReadError(description: "\(file): cannot read the file") }
        do { return try JSONDecoder().decode(RunRecord.self, from: data) } catch { throw ReadError(description: "\(file): not a pollbench summary (\(error.localizedDescription))") }
    }

    public static func read(_ directory: URL) throws(ReadError) -> Contents {
        let record = try record(directory.appendingPathComponent("summary.json").path)
        let timeseries = (try? String(contentsOf: directory.appendingPathComponent("timeseries.csv"), encoding: .utf8)) ?? ""
        var seconds: [String: [SecondBucket]] = [:]
        for line in timeseries.split(separator: "\n").dropFirst() {
            // "name",second,requests,http_429,started,ended,active — the quoted name may hold commas.
            guard line.first == "\"", let close = line.dropFirst().firstIndex(of: "\"") else { continue }
            let name = String(line[line.index(after: line.startIndex)..<close])
            let numbers = line[line.index(after: close)...].split(separator: ",").compactMap { Int($0) }
            guard numbers.count == 6, numbers[0] >= 0 else { continue }
            // Idle seconds have no row: each row goes to its own second, the ones between stay empty.
            let second = numbers[0], known = seconds[name]?.count ?? 0
            if known <= second { seconds[name, default: []].append(contentsOf: repeatElement(SecondBucket(), count: second + 1 - known)) }
            seconds[name]?[second].add(SecondBucket(requests: numbers[1], rateLimited: numbers[2], started: numbers[3], ended: numbers[4]))
        }
        var series: [ReportSeries] = []
        var start: Double?
        for summary in record.strategies {
            guard let strategy = try? PollStrategy(parsing: summary.name) else { continue }
            let log = directory.appendingPathComponent("\(strategy.fileName).hlog")
            guard let text = try? String(contentsOf: log, encoding: .utf8) else { continue }  // a strategy that never ran
            guard let entries = HistogramLog.read(text) else { throw ReadError(description: "\(log.path): a histogram line does not decode") }
            start = start ?? HistogramLog.startTime(text)
            series.append(ReportSeries(name: summary.name, entries: entries, seconds: seconds[summary.name] ?? []))
        }
        return Contents(record: record, series: series, startEpochSeconds: start, sessions: try sessions(in: directory))
    }

    /// The rows of the directory's sessions.csv; none when it has none.
    public static func sessions(in directory: URL) throws(ReadError) -> [SessionRow] {
        let file = directory.appendingPathComponent("sessions.csv")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        switch SessionsCSV.read(text) {
        case .success(let rows): return rows
        case .failure(let error): throw ReadError(description: "\(file.path): \(error)")
        }
    }
}
