import Foundation
import PollBenchCore
import PollBenchCurl
import PollBenchSandbox

/// Runs `pollbench run`: starts the embedded sandbox (unless a remote target is named), runs the
/// polling engines on libcurl worker loops, then writes and prints the results.
struct LiveRun {
    let settings: RunSettings

    /// What the caller needs to choose an exit code.
    struct Outcome {
        var record: RunRecord
        var interrupted: Bool
        var thresholdsPassed: Bool { record.thresholdsPassed }
    }

    func execute() async throws -> Outcome {
        let startedMillis = WallClock.nowMillis()
        let started = ContinuousClock.now
        let stop = StopSignal()
        let interrupts = SignalHandlers.stopping(stop)
        let deadline = Task {
            try await Task.sleep(for: settings.maxDuration)
            stop.request()
        }
        defer { deadline.cancel() }

        var server: SandboxServer?
        let baseURL: String, credentials: BasicCredentials, clock: ModelClock
        if let target = settings.target {
            (baseURL, credentials) = (target.baseURL, target.credentials)
            clock = ModelClock(startMillis: startedMillis, scale: 1)
        } else {
            let (embedded, client) = try await Self.startSandbox(settings)
            server = embedded
            (baseURL, credentials, clock) = (embedded.baseURL, client, embedded.clock)
        }

        let board = ProgressBoard()
        let progress = ProgressLine(board: board, total: settings.workload.sessions * settings.strategies.count)
        var recorders = Array(repeating: [StrategyRecorder](), count: settings.strategies.count)
        // An interval of the record is a wall second; every worker's start together, when their round does.
        let runStart = clock.nanos(since: started)
        func timeline(from origin: Int64) -> IntervalTimeline {
            IntervalTimeline(clock: clock, originNanos: origin, intervalNanos: 1_000_000_000, offsetSeconds: Double(origin - runStart) / 1e9)
        }
        var timelines = Array(repeating: timeline(from: runStart), count: settings.strategies.count)
        for round in settings.suite.rounds where !stop.isRequested {
            let roundStart = clock.nanos(since: .now)
            let perWorker = try runRound(round, baseURL: baseURL, credentials: credentials, clock: clock, intervalOrigin: roundStart, board: board, stop: stop)
            for workerRecorders in perWorker {
                for (position, strategy) in round.enumerated() { recorders[strategy].append(workerRecorders[position]) }
            }
            for strategy in round { timelines[strategy] = timeline(from: roundStart) }
        }
        await progress.finish()

        var truth: (terminals: [String: Int64], counts: GroundTruth)?
        if let server {
            truth = server.service.truth(now: server.clock.nowMillis())
            await server.stop()
        }
        let elapsed = ContinuousClock.now - started
        let info = settings.suite.runInfo(
            name: settings.name, startedAt: startedMillis, wallSeconds: elapsed.inSeconds,
            simulated: false, target: settings.target?.baseURL ?? "embedded", partial: stop.isRequested
        )
        let (record, results) = settings.suite.record(info: info, recorders: recorders, timelines: timelines, truth: truth)
        let directory = ResultWriter.directory(root: settings.output, name: settings.name, startedMillis: startedMillis)
        try ResultFiles.write(into: directory) { try $0.writeAll(record: record, results: results, startEpochSeconds: Double(startedMillis) / 1_000) }
        Console.out(TerminalTable.render(record))
        Console.out("results: \(directory.path)" + (record.run.partial ? " (partial: the run was stopped early)" : ""))
        try Self.checkReachable(record)
        return Outcome(record: record, interrupted: interrupts.signalled)
    }

    /// Runs one round's strategies at once on every worker; returns each worker's recorders in the round's order.
    private func runRound(
        _ round: [Int], baseURL: String, credentials: BasicCredentials, clock: ModelClock, intervalOrigin: Int64, board: ProgressBoard, stop: StopSignal
    ) throws -> [[StrategyRecorder]] {
        var configuration = settings.suite.engineConfiguration(round: round, baseURL: baseURL, credentials: credentials, workers: settings.workers)
        if settings.trace {
            configuration.trace = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        let engineConfiguration = configuration
        let (specs, concurrency) = settings.suite.sessionSpecs(round: round)
        let workers = settings.workers
        do {
            return try CurlTransport.run(
                configuration: CurlTransportConfiguration(workers: workers, connectionsPerWorker: settings.connections, caBundlePath: settings.target?.caBundle),
                makeDriver: { worker in
                    let mine = specs.enumerated().filter { $0.offset % workers == worker }.map(\.element)
                    let share = concurrency / workers + (worker < concurrency % workers ? 1 : 0)
                    return PollingEngine(
                        configuration: engineConfiguration, sessions: mine, clock: clock, closedConcurrency: share, intervalOriginNanos: intervalOrigin,
                        progress: board, stop: stop
                    )
                },
                collect: { $0.recorders }
            )
        } catch {
            throw CommandFailure(message: "cannot start the libcurl transport: \(error)", exitCode: 3)
        }
    }

    /// The embedded sandbox with a throwaway credential that never leaves the process.
    private static func startSandbox(_ settings: RunSettings) async throws -> (SandboxServer, BasicCredentials) {
        var random = SystemRandomNumberGenerator()
        let client = BasicCredentials(clientID: "RUN" + String(random.next() % 100_000, radix: 10), clientSecret: (0..<4).map { _ in String(format8: random.next()) }.joined())
        do {
            return (try await SandboxServer.start(configuration: settings.suite.sandboxConfiguration(client: client)), client)
        } catch {
            throw CommandFailure(message: "cannot start the embedded sandbox: \(error)", exitCode: 3)
        }
    }

    /// Exit 3 when no session could even be created: the target is down, refuses us, or the credentials are wrong.
    private static func checkReachable(_ record: RunRecord) throws {
        let creates = record.strategies.flatMap { $0.responses["create"] ?? [:] }
        guard !creates.contains(where: { $0.key == "201" }), !creates.isEmpty else { return }
        let summary = creates.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
        throw CommandFailure(message: "no verification could be created (create answers: \(summary)); is the target up and are the credentials right?", exitCode: 3)
    }
}
