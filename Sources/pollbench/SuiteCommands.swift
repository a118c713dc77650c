import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchLive

/// Finds and reads suite files: a shipped suite by name (Benchmarks/suites/NAME.yaml, looked up from the
/// working directory and from the executable's checkout), or any path.
enum SuiteFiles {
    static func directories() -> [URL] {
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder)
            folder = folder.deletingLastPathComponent()
        }
        return candidates.map { $0.appendingPathComponent("Benchmarks/suites") }.filter { FileManager.default.fileExists(atPath: $0.path) }
    }

    static func resolve(_ nameOrPath: String) throws -> String {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") { return nameOrPath }
        for folder in directories() {
            let file = folder.appendingPathComponent("\(nameOrPath).yaml")
            if FileManager.default.fileExists(atPath: file.path) { return file.path }
        }
        let known = shipped().map(\.name).joined(separator: ", ")
        throw CommandFailure(message: "no suite named '\(nameOrPath)' (shipped: \(known.isEmpty ? "none found" : known); or give a path)")
    }

    static func load(_ nameOrPath: String) throws -> Suite {
        let path = try resolve(nameOrPath)
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure(message: "\(path): cannot read the file") }
        do {
            return try SuiteReader.parse(String(decoding: data, as: UTF8.self), file: path)
        } catch {
            throw CommandFailure(message: error.description)
        }
    }

    /// The shipped suites, by name, with their descriptions (or the error that stops one loading).
    static func shipped() -> [(name: String, about: String)] {
        guard let folder = directories().first,
              let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path).filter({ $0.hasSuffix(".yaml") }).sorted()
        else { return [] }
        return files.map { file in
            let name = String(file.dropLast(5))
            do {
                return (name, try load(folder.appendingPathComponent(file).path).description)
            } catch let failure as CommandFailure {
                return (name, "(does not load: \(failure.message))")
            } catch {
                return (name, "(does not load: \(error))")
            }
        }
    }
}

/// `pollbench suites`: the shipped suites.
struct SuitesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "suites", abstract: "List the shipped benchmark suites.")

    func run() throws {
        let suites = SuiteFiles.shipped()
        guard !suites.isEmpty else { throw CommandFailure(message: "no Benchmarks/suites folder found from here") }
        let width = suites.map(\.name.count).max() ?? 0
        for suite in suites { Console.out(suite.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + suite.about) }
        Console.out("run one with: pollbench run --suite NAME")
    }
}

/// The CLI's reading of run directories: ``RunDirectory``'s, its refusals as usage errors.
enum RunFiles {
    static func record(_ reference: String, output: String) throws -> (RunRecord, String) {
        do throws(RunDirectory.ReadError) { return try RunDirectory.summary(reference, output: output) } catch { throw CommandFailure(message: error.description) }
    }

    static func latest(in output: String) throws -> String {
        do throws(RunDirectory.ReadError) { return try RunDirectory.latest(in: output) } catch { throw CommandFailure(message: error.description) }
    }
}

/// `pollbench compare BASE NEW`.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two runs per strategy and metric; exit 1 on a regression.",
        discussion: "BASE and NEW are run directories, summary.json files or names of saved baselines."
    )

    @Argument(help: "The run to compare against.")
    var base: String

    @Argument(help: "The run to judge.")
    var new: String

    @Option(help: "A change within this is 'unchanged', e.g. 5% (default: the NEW run's suite tolerance, else 5%).")
    var tolerance: String?

    @Option(help: "Also write the Markdown table to this file.")
    var markdown: String?

    @Option(help: "Also write the verdicts as JUnit XML to this file: a test suite per strategy, a case per metric, a regression a failure.")
    var junit: String?

    @Option(help: "Also write an HTML page with both runs' detection-lag curves and the verdicts (BASE and NEW must be run directories).")
    var html: String?

    @Option(help: "The results folder whose baselines/ holds named baselines.")
    var output = "results"

    func run() throws {
        do {
            try ResultFiles.checkFile(markdown, flag: "--markdown")
            try ResultFiles.checkFile(html, flag: "--html")
            try ResultFiles.checkFile(junit, flag: "--junit")
            let (baseRecord, baseFile) = try RunFiles.record(base, output: output)
            let (newRecord, newFile) = try RunFiles.record(new, output: output)
            var fraction = newRecord.compareTolerance ?? 0.05
            if let tolerance {
                fraction = try FlagValues.fraction(tolerance, flag: "--tolerance")
            }
            let comparison = RunComparison(base: baseRecord, new: newRecord, tolerance: fraction)
            guard !comparison.rows.isEmpty else { throw CommandFailure(message: "the two runs have no strategy in common") }
            let text = comparison.markdown(baseName: baseFile, newName: newFile)
            Console.out(text)
            if let markdown {
                do { try Data(text.utf8).write(to: URL(fileURLWithPath: markdown), options: .atomic) } catch { throw CommandFailure(message: "cannot write \(markdown)") }
            }
            if let html {
                let folder = { (file: String) in URL(fileURLWithPath: file).deletingLastPathComponent() }
                let baseSeries = (try? RunDirectory.read(folder(baseFile)).series) ?? []
                let newSeries = (try? RunDirectory.read(folder(newFile)).series) ?? []
                let page = HTMLReport.comparison(comparison, base: (baseFile, baseSeries), new: (newFile, newSeries))
                do { try Data(page.utf8).write(to: URL(fileURLWithPath: html), options: .atomic) } catch { throw CommandFailure(message: "cannot write \(html)") }
            }
            try CIOutputs(junit: junit).publish(JUnitReport.cases(comparison), name: "pollbench.compare", markdown: text)
            if comparison.hasRegression { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }
}

/// `pollbench baseline save|list`: named baselines under results/baselines/, committed to git.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline", abstract: "Keep named baselines to compare runs against.",
        subcommands: [Save.self, List.self]
    )

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save a run (default: the newest) as a named baseline.")

        @Argument(help: "The baseline's name: letters, digits, '.', '-' and '_', not starting with '.' (e.g. v1.4).")
        var name: String

        @Argument(help: "The run directory (default: the newest under --output).")
        var runDirectory: String?

        @Option(help: "The results folder.")
        var output = "results"

        @Flag(help: "Replace a baseline of the same name (without it, saving over one is refused).")
        var force = false

        func validate() throws {
            guard !name.isEmpty, name.count <= 64, !name.hasPrefix("."), name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
                throw ValidationError("a baseline name is 1 to 64 letters, digits, '.', '-' or '_', not starting with '.' (e.g. v1.4), not '\(name)'")
            }
        }

        func run() throws {
            do {
                let source = try runDirectory ?? RunFiles.latest(in: output)
                _ = try RunFiles.record(source, output: output)
                let folder = URL(fileURLWithPath: output).appendingPathComponent("baselines").appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: folder.path), !force {
                    throw CommandFailure(message: "baseline '\(name)' already exists in \(folder.path); give --force to replace it")
                }
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for file in ["summary.json", "summary.md"] {
                    let from = URL(fileURLWithPath: source).appendingPathComponent(file), to = folder.appendingPathComponent(file)
                    guard let data = FileManager.default.contents(atPath: from.path) else { continue }
                    try data.write(to: to, options: .atomic)
                }
                Console.out("saved \(source) as baseline '\(name)' in \(folder.path) (commit it to share it)")
            } catch let failure as CommandFailure {
                Console.error(failure.message)
                throw ExitCode(failure.exitCode)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List saved baselines.")

        @Option(help: "The results folder.")
        var output = "results"

        func run() throws {
            let folder = "\(output)/baselines"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { FileManager.default.fileExists(atPath: "\(folder)/\($0)/summary.json") }.sorted()
            guard !names.isEmpty else {
                Console.out("no baselines in \(folder)/ (save one with: pollbench baseline save NAME)")
                return
            }
            for name in names {
                let record = try? RunFiles.record("\(folder)/\(name)", output: output).0
                Console.out("\(name)  \(record.map { "\($0.run.startedAt), \($0.strategies.map(\.name).joined(separator: " / "))" } ?? "(unreadable)")")
            }
        }
    }
}

/// `pollbench report DIR`: rebuilds a run directory's report.html and summary.md from its files.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Rebuild report.html and summary.md of a run directory from its summary.json, .hlog and timeseries.csv."
    )

    @Argument(help: "The run directory.")
    var directory: String

    func run() throws {
        do {
            let written = try ResultWriter(directory: URL(fileURLWithPath: directory)).rebuildReport()
            Console.out("wrote " + written.map { "\(directory)/\($0)" }.joined(separator: ", "))
        } catch let error as RunDirectory.ReadError {
            Console.error(error.description)
            throw ExitCode(2)
        } catch {
            Console.error("\(directory): cannot write the report (\(error.localizedDescription))")
            throw ExitCode(2)
        }
    }
}
