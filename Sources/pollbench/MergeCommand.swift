import ArgumentParser
import Foundation
import PollBenchCore

/// `pollbench merge`: the shards of a sharded run as one run, judged once.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the run directories of a sharded run (--shard/--shards) into one run: counters summed, histograms merged exactly on absolute time, thresholds judged once.",
        discussion: "Exit codes: 0 merged and every threshold met, 1 a threshold failed, 2 the shards do not make one run (another run's shard, one missing or named twice, a partial one without --allow-partial)."
    )

    @Argument(help: "The shards' run directories (or earlier merges of some of them).")
    var directories: [String]

    @Option(help: "Where the merged run goes: this directory, or a new one under results/ by default.")
    var output: String?

    @Flag(help: "Merge a partial shard, or without a missing one, and mark the result partial.")
    var allowPartial = false

    @Option(help: "Also write the merged run's thresholds as JUnit XML to this file.")
    var junit: String?

    func run() throws {
        do {
            guard !directories.isEmpty else { throw CommandFailure(message: "merge needs the shards' run directories") }
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
            let directory = output.map { URL(fileURLWithPath: $0) }
                ?? ResultWriter.directory(root: "results", name: record.run.name + "-merged", startedMillis: WallClock.nowMillis())
            try ResultFiles.write(into: directory) { try $0.writeAll(record: record, results: merge.results, startEpochSeconds: merge.startEpochSeconds) }
            Console.out(TerminalTable.render(record))
            Console.out("merged: \(directory.path)" + (record.run.partial ? " (partial)" : ""))
            try CIOutputs(junit: junit).publish(JUnitReport.cases(record), name: "pollbench.\(record.run.name)", markdown: SummaryMarkdown.render(record))
            if !record.thresholdsPassed { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }
}
