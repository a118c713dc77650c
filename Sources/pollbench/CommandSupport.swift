import Foundation
import PollBenchCore
import PollBenchRules

/// Flag values several commands take, each turned into a one-line usage error when it does not parse.
enum FlagValues {
    /// `sandbox`'s providers with the users of the model file at `path` (`--users`).
    static func applyUsers(_ path: String, to sandbox: inout SandboxConfiguration) throws {
        do throws(SuiteError) { try sandbox.apply(users: try UserModelFile.load(path), file: path) } catch { throw CommandFailure(message: "--users: \(error.description)") }
    }

    /// A share written `5%` or `0.05`.
    static func fraction(_ text: String, flag: String) throws -> Double {
        do throws(ThresholdError) { return try Threshold.fraction(text) } catch { throw CommandFailure(message: "\(flag): \(error.problem)") }
    }

    /// Refuses a provider mix that names a provider the service does not offer: its every create would
    /// be refused and the run would measure nothing.
    static func refuseUnknownProviders(_ mix: [(id: String, weight: Double)], offered: [String], flag: String) throws {
        if let problem = Workload.unknownProviders(mix, offered: offered, flag: flag) { throw CommandFailure(message: problem) }
    }

    /// A rate written `40`, `40/s`, `2400/min`, `50000/h` or `200000/day`, per second.
    static func rate(_ text: String, flag: String) throws -> Double {
        guard let rate = RateText.perSecond(text) else { throw CommandFailure(message: "\(flag): expected a rate such as 40/s or 2400/min, got '\(text)'") }
        return rate
    }
}

/// Writing a command's files into its run directory.
enum ResultFiles {
    /// A new run directory under `root`, never an existing one's (a name taken gets a suffix).
    static func newRunDirectory(root: String, name: String, startedMillis: Int64) throws -> URL {
        do throws(RunDirectoryError) {
            return try ResultWriter.createRunDirectory(root: root, name: name, startedMillis: startedMillis)
        } catch {
            throw CommandFailure(message: error.description)
        }
    }

    /// What a run directory holds, for the results line: `9 files, 412 KB`.
    static func sizeText(_ directory: URL) -> String {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey])) ?? []
        let bytes = files.reduce(0) { $0 + ((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
        let size = bytes < 1_000_000 ? String(format: "%.0f KB", Double(bytes) / 1_000) : String(format: "%.1f MB", Double(bytes) / 1_000_000)
        return "\(files.count) files, \(size)"
    }

    /// Refuses, before any work, an output root that cannot hold run directories: a file, or a
    /// directory inside a file.
    static func checkRoot(_ root: String, flag: String = "--output") throws {
        var folder = URL(fileURLWithPath: root).standardizedFileURL
        while true {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw CommandFailure(message: "\(flag): \(folder.path) is a file, not a directory") }
                guard FileManager.default.isWritableFile(atPath: folder.path) else { throw CommandFailure(message: "\(flag): \(folder.path) is not writable") }
                return
            }
            let parent = folder.deletingLastPathComponent()
            guard parent.path != folder.path else { return }
            folder = parent
        }
    }

    /// Refuses, before any work, a file to write (`--junit`, `--markdown`, `--html`) whose folder is
    /// missing or not a directory, or that is itself a directory.
    static func checkFile(_ path: String?, flag: String) throws {
        guard let path else { return }
        let file = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandFailure(message: "\(flag): \(file.path) is a directory, not a file")
        }
        let folder = file.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure(message: "\(flag): cannot write \(file.path): \(folder.path) is not a directory")
        }
    }

    /// Writes with `body` into `directory`; a failure becomes one line naming the directory.
    static func write(into directory: URL, _ body: (ResultWriter) throws -> Void) throws {
        do {
            try body(ResultWriter(directory: directory))
        } catch {
            throw CommandFailure(message: "cannot write results to \(directory.path): \(error.localizedDescription)")
        }
    }
}

/// What CI systems read: a JUnit XML file (`--junit FILE`) and, when GitHub Actions sets
/// `GITHUB_STEP_SUMMARY`, the run's Markdown appended to the job's step summary.
struct CIOutputs {
    static let stepSummaryVariable = "GITHUB_STEP_SUMMARY"

    let junit: String?
    var environment = ProcessInfo.processInfo.environment

    /// Writes the JUnit file when asked for and appends `markdown` to the step summary when there is one.
    func publish(_ cases: [JUnitReport.Case], name: String, markdown: String) throws {
        if let junit {
            do {
                try Data(JUnitReport.render(cases, name: name).utf8).write(to: URL(fileURLWithPath: junit), options: .atomic)
            } catch {
                throw CommandFailure(message: "--junit: cannot write \(junit): \(error.localizedDescription)")
            }
        }
        guard let path = environment[Self.stepSummaryVariable], !path.isEmpty else { return }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let file = FileHandle(forWritingAtPath: path) else { throw CommandFailure(message: "\(Self.stepSummaryVariable): cannot append to \(path)") }
        defer { try? file.close() }
        do {
            try file.seekToEnd()
            try file.write(contentsOf: Data((markdown + "\n").utf8))
        } catch {
            throw CommandFailure(message: "\(Self.stepSummaryVariable): cannot append to \(path): \(error.localizedDescription)")
        }
    }
}

/// A wall-clock duration as the CLI prints it: `1.75 s`.
func secondsText(_ duration: Duration) -> String {
    String(format: "%.2f s", duration.inSeconds)
}
