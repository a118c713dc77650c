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
        let slots = settings.workload.slots()
        let rounds: [[Int]] = settings.mixed ? [Array(settings.strategies.indices)] : settings.strategies.indices.map { [$0] }
        for round in rounds where !stop.isRequested {
            let perWorker = try runRound(strategies: round, slots: slots, baseURL: baseURL, credentials: credentials, clock: clock, board: board, stop: stop)
            for workerRecorders in perWorker {
                for (position, strategy) in round.enumerated() { recorders[strategy].append(workerRecorders[position]) }
            }
        }
        await progress.finish()

        var truth: (terminals: [String: Int64], counts: GroundTruth)?
        if let server {
            let now = server.clock.nowMillis()
            let terminals = server.service.sessionRecords(now: now).compactMap { r in r.terminalAt.map { (r.verificationId, $0) } }
            truth = (Dictionary(uniqueKeysWithValues: terminals), server.service.groundTruth(now: now))
            await server.stop()
        }
        let elapsed = ContinuousClock.now - started
        var info = RunInfo(
            pollbenchVersion: PollBenchVersionInfo.current, name: settings.name, startedAt: ISO8601Millis.format(startedMillis), simulated: false,
            target: settings.target?.baseURL ?? "embedded", timeScale: settings.timeScale, mode: settings.mixed ? "mixed" : "sequential",
            workload: settings.workload, clientTimeoutMillis: settings.clientTimeoutMillis
        )
        info.partial = stop.isRequested
        info.caps = RunCaps(
            sessionsPerStrategy: 100_000, requestsPerSecond: settings.suite.maxRequestsPerSecond, wallSeconds: Double(settings.suite.maxDurationMillis) / 1_000
        )
        info.wallSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var (record, results) = RunRecordBuilder(info: info).build(strategies: settings.strategies, recorders: recorders, truth: truth)
        record.thresholds = settings.suite.evaluate(record)
        record.compareTolerance = settings.suite.tolerance
        let directory = ResultWriter.directory(root: settings.output, name: settings.name, startedMillis: startedMillis)
        do {
            try ResultWriter(directory: directory).writeAll(record: record, results: results, startEpochSeconds: Double(startedMillis) / 1_000)
        } catch {
            throw CommandFailure(message: "cannot write results to \(directory.path): \(error.localizedDescription)")
        }
        Console.out(TerminalTable.render(record))
        Console.out("results: \(directory.path)" + (record.run.partial ? " (partial: the run was stopped early)" : ""))
        try Self.checkReachable(record)
        return Outcome(record: record, interrupted: interrupts.signalled)
    }

    /// Runs the given strategies at once on every worker; returns each worker's recorders in `strategies` order.
    private func runRound(
        strategies: [Int], slots: [SessionSlot], baseURL: String, credentials: BasicCredentials, clock: ModelClock, board: ProgressBoard, stop: StopSignal
    ) throws -> [[StrategyRecorder]] {
        var configuration = EngineConfiguration(baseURL: baseURL, credentials: credentials, strategies: strategies.map { settings.strategies[$0] }, seed: settings.seed)
        configuration.clientTimeoutMillis = settings.clientTimeoutMillis
        configuration.createRetries = settings.createRetries
        configuration.maxRequestsPerSecond = settings.suite.maxRequestsPerSecond / Double(settings.workers)
        if settings.trace {
            configuration.trace = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        let engineConfiguration = configuration
        let specs = strategies.indices.flatMap { position in slots.map { EngineSessionSpec(slot: $0, strategy: position) } }
        let workers = settings.workers
        let concurrency: Int = if case .closed(let n) = settings.workload.arrival { n * strategies.count } else { 0 }
        do {
            return try CurlTransport.run(
                configuration: CurlTransportConfiguration(workers: workers, connectionsPerWorker: settings.connections, caBundlePath: settings.target?.caBundle),
                makeDriver: { worker in
                    let mine = specs.enumerated().filter { $0.offset % workers == worker }.map(\.element)
                    let share = concurrency / workers + (worker < concurrency % workers ? 1 : 0)
                    return PollingEngine(configuration: engineConfiguration, sessions: mine, clock: clock, closedConcurrency: share, progress: board, stop: stop)
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
        let client = SandboxConfiguration.Client(
            id: "RUN" + String(random.next() % 100_000, radix: 10), secret: (0..<4).map { _ in String(format8: random.next()) }.joined(),
            rateLimit: settings.suite.rateLimit, endpointLimits: settings.suite.endpointLimits
        )
        var configuration = settings.suite.sandbox
        configuration.clients = [client]
        configuration.graceSeconds = 1_000_000  // keep every session until the run reads its ground truth
        do {
            return (try await SandboxServer.start(configuration: configuration), BasicCredentials(clientID: client.id, clientSecret: client.secret))
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
