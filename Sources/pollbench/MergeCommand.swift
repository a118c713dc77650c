import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchRules

/// `pollbench merge`: the shards of a sharded run as one run, judged once.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the run directories of a sharded run (--shard/--shards) into one run: counters summed, histograms merged exactly on absolute time, thresholds judged once.",
        discussion: "Exit codes: 0 merged and every threshold met, 1 a threshold failed, 2 the shards do not make one run (another run's shard, one missing or named twice, a partial one without --allow-partial)."
    )

    @Argument(help: "The shards' run directories (or earlier merges of some of them).")
    var directories: [String]

    @Option(help: "Where the merged run goes: this directory (new or empty; never one of the shards), or a new one under results/ by default.")
    var output: String?

    @Flag(help: "Merge a partial shard, or without a missing one, and mark the result partial.")
    var allowPartial = false

    @Option(help: "Also write the merged run's thresholds as JUnit XML to this file.")
    var junit: String?

    func run() throws {
        do {
            guard !directories.isEmpty else { throw CommandFailure(message: "merge needs the shards' run directories") }
            try output.map(checkOutput)
            try ResultFiles.checkFile(junit, flag: "--junit")
            let parts = try directories.map { path throws -> ShardMerge.Part in
                do throws(RunDirectory.ReadError) {
                    return ShardMerge.Part(name: path, contents: try RunDirectory.read(URL(fileURLWithPath: path)))
                } catch {
                    throw CommandFailure(message: error.description)
                }
            }
            let merge: ShardMerge
            do throws(ShardMerge.Problem) { merge = try ShardMerge(parts, allowPartial: allowPartial) } catch { throw CommandFailure(message: error.description) }
            let record = merge.record
            let directory = try output.map(createOutput)
                ?? ResultFiles.newRunDirectory(root: "results", name: record.run.name + "-merged", startedMillis: WallClock.nowMillis())
            try ResultFiles.write(into: directory) { try $0.writeAll(record: record, results: merge.results, startEpochSeconds: merge.startEpochSeconds, sessions: merge.sessions) }
            Console.out(TerminalTable.render(record))
            Console.out("merged: \(directory.path)" + (record.run.partial ? " (partial)" : ""))
            try CIOutputs(junit: junit).publish(JUnitReport.cases(record), name: "pollbench.\(record.run.name)", markdown: SummaryMarkdown.render(record))
            if record.fails { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }

    /// Refuses an output that is one of the inputs, holds one, or already holds anything: a merge never
    /// writes over a run.
    private func checkOutput(_ output: String) throws {
        let target = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath().path
        for input in directories {
            let source = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath().path
            if source == target || source.hasPrefix(target + "/") {
                throw CommandFailure(message: "--output \(output) is one of the runs being merged (\(input)); give a new directory")
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else { return try ResultFiles.checkRoot(output) }
        guard isDirectory.boolValue else { throw CommandFailure(message: "--output \(output) is a file, not a directory") }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
        guard contents.isEmpty else { throw CommandFailure(message: "--output \(output) is not empty; a merge is written to a new or empty directory, never over another run") }
    }

    /// The checked output directory: created now when it does not exist.
    private func createOutput(_ output: String) throws -> URL {
        let directory = URL(fileURLWithPath: output)
        guard !FileManager.default.fileExists(atPath: directory.path) else { return directory }
        do throws(RunDirectoryError) { return try ResultWriter.createExclusively(directory) } catch { throw CommandFailure(message: error.description) }
    }
}
