import Foundation
import PollBenchCore
import PollBenchCurl
import PollBenchHTTPServer
import PollBenchMetrics
import PollBenchReceiver
import PollBenchRules
import PollBenchSandbox

/// A live run: starts the embedded sandbox (unless a remote target is named), its webhook receiver and
/// live metrics when asked, runs the polling engines on libcurl worker loops round by round, and makes
/// the run's record. Writing and printing it is the caller's.
public struct LiveRun {
    /// The run's settings; a remote target's preflight may set its time scale (a pollbench sandbox's).
    public var settings: RunSettings

    public init(settings: RunSettings) {
        self.settings = settings
    }

    /// What a run leaves: its record, each strategy's results, and when it started (epoch ms).
    public struct Outcome: Sendable {
        public var record: RunRecord
        public var results: [StrategyResult]
        public var startedMillis: Int64
    }

    /// Runs to the end of the workload, to `--max-duration`, or until `stop` is requested (a partial record).
    /// - Parameters:
    ///   - progress: where the engines count sessions and requests as they go.
    ///   - say: a line the user needs during the run (the live metrics' address, before any session).
    /// - Throws: ``LiveRunFailure`` before the first session when the target, or a server of the run's own, cannot be used.
    public mutating func execute(stop: StopSignal, progress board: ProgressBoard, say: (String) -> Void) async throws -> Outcome {
        let startedMillis = WallClock.nowMillis()
        let started = ContinuousClock.now
        let maxDuration = settings.maxDuration
        let deadline = Task {
            try await Task.sleep(for: maxDuration)
            stop.request()
        }
        defer { deadline.cancel() }

        var server: SandboxServer?
        let baseURL: String, credentials: BasicCredentials, clock: ModelClock
        let identity = try settings.tls ? Self.selfSignedIdentity() : nil
        // The embedded sandbox posts its webhooks through a transport of its own, never the engines'.
        let webhookSender = try settings.webhooks.map { _ in
            var loopbackOnly = CurlTransportConfiguration(workers: 1, connectionsPerWorker: 64)
            loopbackOnly.usesEnvironmentProxy = false
            return try Self.transport(loopbackOnly)
        }
        defer { webhookSender?.shutdown() }
        var adopted = false, targetIsPollbenchSandbox = true
        if let target = settings.target {
            let findings = try await Self.preflight(target, settings: settings)
            targetIsPollbenchSandbox = findings.isPollbenchSandbox
            if let scale = findings.timeScale {
                // A pollbench sandbox in model time: run the client's clock at its rate, as the embedded run does.
                settings.suite.timeScale = scale
                adopted = true
            }
            (baseURL, credentials) = (target.baseURL, target.credentials)
            clock = ModelClock.wall(scale: settings.suite.timeScale)  // the offset to the service's clock is measured against it
        } else {
            let (embedded, client) = try await Self.startSandbox(settings, tls: identity, webhookTransport: webhookSender)
            server = embedded
            (baseURL, credentials, clock) = (embedded.baseURL, client, embedded.clock)
        }
        var receiver: (server: WebhookReceiverServer, url: String)?
        if let webhooks = settings.webhooks { receiver = try await Self.startReceiver(webhooks, clock: clock) }

        let metrics = try await Self.startMetrics(settings.metricsListen)
        if let metrics, let address = settings.metricsListen {
            say("metrics: http://\(address.host.contains(":") ? "[\(address.host)]" : address.host):\(metrics.server.port)/metrics")
        }
        var recorders = Array(repeating: [StrategyRecorder](), count: settings.strategies.count)
        var harness: [HarnessRecorder] = []
        // An interval of the record is a wall second; every worker's start together, when their round does.
        let runStart = clock.nanos(since: started)
        func timeline(from origin: Int64) -> IntervalTimeline {
            IntervalTimeline(clock: clock, originNanos: origin, intervalNanos: 1_000_000_000, offsetSeconds: Double(origin - runStart) / 1e9)
        }
        var timelines = Array(repeating: timeline(from: runStart), count: settings.strategies.count)
        for (number, round) in settings.suite.rounds.enumerated() where !stop.isRequested {
            let roundStart = clock.nanos(since: .now)
            let perWorker = try runRound(
                round, number: number, baseURL: baseURL, credentials: credentials, clock: clock, intervalOrigin: roundStart, runStart: runStart, board: board, stop: stop,
                receiver: receiver, trusting: identity?.certificatePEM, metrics: metrics?.metrics, sendsWorkloadKey: targetIsPollbenchSandbox
            )
            for worker in perWorker {
                for (position, strategy) in round.enumerated() { recorders[strategy].append(worker.recorders[position]) }
                harness += [worker.harness].compactMap { $0 }
            }
            for strategy in round { timelines[strategy] = timeline(from: roundStart) }
        }

        var truth: (terminals: [String: Int64], counts: GroundTruth)?
        if let server {
            server.stopWebhooks()  // its attempts in flight answered first, so that both sides' counts are final
            truth = server.service.truth(now: server.clock.nowMillis())
            await server.stop()
        }
        let webhookCounts = receiver?.server.receiver.counts
        await receiver?.server.stop()
        await metrics?.server.stop()
        let elapsed = ContinuousClock.now - started
        var info = settings.suite.runInfo(
            name: settings.name, startedAt: startedMillis, wallSeconds: elapsed.inSeconds,
            simulated: false, target: settings.target?.baseURL ?? "embedded", partial: stop.isRequested
        )
        if adopted { info.timeScaleAnnounced = true }
        var (record, results) = settings.suite.record(info: info, recorders: recorders, timelines: timelines, truth: truth, webhookReceiver: webhookCounts)
        record.harness = HarnessHealth(
            recorders: harness, cores: AllowedCPUs.count(), workers: settings.workers, connectionsPerWorker: settings.connections,
            maxRequestsPerSecond: settings.suite.shardRequestCap
        )
        return Outcome(record: record, results: results, startedMillis: startedMillis)
    }

    /// One request before any session: an unreachable target, refused credentials or a web page where
    /// the API should be end the run at once (exit 3), and a provider mix the target does not list is
    /// refused (exit 2). Returns what it learned of the target (the time scale a pollbench sandbox announces).
    private static func preflight(_ target: RemoteTarget, settings: RunSettings) async throws -> TargetPreflight.Findings {
        let transport = try transport(CurlTransportConfiguration(workers: 1, connectionsPerWorker: 1, caBundlePath: target.caBundle, httpVersion: settings.httpVersion))
        defer { transport.shutdown() }
        let findings: TargetPreflight.Findings
        do throws(TargetPreflight.Refusal) {
            findings = try await TargetPreflight(baseURL: target.baseURL, credentials: target.credentials).run(on: transport)
        } catch {
            throw LiveRunFailure(message: error.description, exitCode: 3)
        }
        if let providers = findings.providers, let problem = Workload.unknownProviders(settings.workload.providerMix, offered: providers, flag: "--providers") {
            throw LiveRunFailure(message: problem, exitCode: 2)
        }
        return findings
    }

    /// Runs one round's strategies at once on every worker; returns each worker's recorders in the round's
    /// order, and what its loop recorded of its own load (worker 0's also reads the process's CPU time).
    private func runRound(
        _ round: [Int], number: Int, baseURL: String, credentials: BasicCredentials, clock: ModelClock, intervalOrigin: Int64, runStart: Int64, board: ProgressBoard,
        stop: StopSignal, receiver: (server: WebhookReceiverServer, url: String)?, trusting certificatePEM: String?, metrics: RunMetrics?, sendsWorkloadKey: Bool
    ) throws -> [(recorders: [StrategyRecorder], harness: HarnessRecorder?)] {
        var configuration = settings.suite.engineConfiguration(round: round, baseURL: baseURL, credentials: credentials, workers: settings.workers)
        if settings.trace {
            configuration.trace = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        configuration.sharedClock = settings.target == nil
        configuration.requestTimeout = settings.requestTimeout
        configuration.maxDuePerTurn = 32  // about a millisecond of sends between two reads of the sockets
        configuration.spoolsRecords = true
        configuration.sendsWorkloadKey = sendsWorkloadKey
        let engineConfiguration = configuration
        let (specs, concurrency) = settings.suite.sessionSpecs(round: round)
        let workers = settings.workers
        let perWorker = (0..<workers).map { worker in specs.enumerated().filter { $0.offset % workers == worker }.map(\.element) }
        let inboxes = perWorker.map { _ in WebhookInbox() }
        receiver?.server.open(round: number, inboxes: zip(inboxes, perWorker).map { ($0, $1.count) })
        let webhookBase = receiver.map { "\($0.url)/\(number)" }
        do {
            var transport = CurlTransportConfiguration(
                workers: workers, connectionsPerWorker: settings.connections, caBundlePath: settings.target?.caBundle, caCertificatesPEM: certificatePEM,
                httpVersion: settings.httpVersion
            )
            transport.usesEnvironmentProxy = settings.target != nil  // the embedded sandbox is on loopback
            return try CurlTransport.run(
                configuration: transport,
                makeDriver: { worker in
                    let share = concurrency / workers + (worker < concurrency % workers ? 1 : 0)
                    var mine = engineConfiguration
                    mine.webhookBaseURL = webhookBase.map { "\($0)/\(worker)" }
                    mine.metrics = metrics?.worker(worker)
                    return PollingEngine(
                        configuration: mine, sessions: perWorker[worker], clock: clock, closedConcurrency: share, intervalOriginNanos: intervalOrigin,
                        progress: board, stop: stop, webhooks: receiver == nil ? nil : inboxes[worker],
                        harness: HarnessRecorder(originNanos: runStart, samplesProcess: worker == 0)
                    )
                },
                collect: { ($0.recorders, $0.harnessRecord) }
            )
        } catch {
            throw LiveRunFailure(message: "cannot start the libcurl transport: \(error)", exitCode: 3)
        }
    }

    /// The embedded sandbox with a throwaway credential that never leaves the process.
    private static func startSandbox(_ settings: RunSettings, tls: TLSIdentity?, webhookTransport: CurlTransport?) async throws -> (SandboxServer, BasicCredentials) {
        var random = SystemRandomNumberGenerator()
        let client = BasicCredentials(clientID: "RUN" + String(random.next() % 100_000, radix: 10), clientSecret: (0..<4).map { _ in String(format8: random.next()) }.joined())
        do {
            let configuration = settings.suite.sandboxConfiguration(client: client, webhookSecret: settings.webhooks?.secret)
            return (try await SandboxServer.start(configuration: configuration, tls: tls, webhookTransport: webhookTransport), client)
        } catch {
            throw LiveRunFailure(message: "cannot start the embedded sandbox: \(error)", exitCode: 3)
        }
    }

    /// A certificate for the embedded sandbox's HTTPS, trusted by this run's client alone.
    private static func selfSignedIdentity() throws -> TLSIdentity {
        do { return try TLSIdentity.selfSigned() } catch { throw LiveRunFailure(message: "cannot make a TLS certificate: \(error)", exitCode: 3) }
    }

    /// The live metrics and their server, when asked for; its address is printed for Prometheus's scrape config.
    private static func startMetrics(_ address: ListenAddress?) async throws -> (metrics: RunMetrics, server: MetricsServer)? {
        guard let address else { return nil }
        let metrics = RunMetrics()
        do {
            return (metrics, try await MetricsServer.start(metrics, host: address.host, port: address.port))
        } catch {
            throw LiveRunFailure(message: "--metrics-listen: \(error)", exitCode: 3)
        }
    }

    /// The webhook receiver, and the address sessions give the service.
    private static func startReceiver(_ webhooks: WebhookSettings, clock: ModelClock) async throws -> (server: WebhookReceiverServer, url: String) {
        do {
            let server = try await WebhookReceiverServer.start(receiver: WebhookReceiver(secrets: [webhooks.secret]), host: webhooks.host, port: webhooks.port, clock: clock)
            return (server, webhooks.url ?? webhooks.localURL(port: server.port))
        } catch {
            throw LiveRunFailure(message: "\(error)", exitCode: 3)
        }
    }

    private static func transport(_ configuration: CurlTransportConfiguration) throws -> CurlTransport {
        do {
            return try CurlTransport(configuration: configuration)
        } catch {
            throw LiveRunFailure(message: "cannot start the libcurl transport: \(error)", exitCode: 3)
        }
    }

    /// Why a run reached nothing, when no session could even be created (the target is down, refuses us,
    /// or the credentials are wrong); nil when one could.
    public static func unreachable(_ record: RunRecord) -> String? {
        let creates = record.strategies.flatMap { $0.responses["create"] ?? [:] }
        guard !creates.contains(where: { $0.key == "201" }), !creates.isEmpty else { return nil }
        let summary = creates.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
        return "no verification could be created (create answers: \(summary)); is the target up and are the credentials right?"
    }
}
