import ArgumentParser
import Foundation
import PollBenchCore

/// `pollbench run`: the main job. Compares polling strategies on one workload.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run verification sessions and compare polling strategies (default: against the embedded sandbox).",
        discussion: """
        Exit codes: 0 done, 2 bad usage, 3 target unreachable or refused, 130 interrupted (partial results written).
        A remote target reads POLLBENCH_CLIENT_ID and POLLBENCH_CLIENT_SECRET from the environment.
        """
    )

    @Option(name: .customLong("strategy"), help: "A strategy, repeatable: fixed:3s, exp:1s,x2,max30s, jitter:full|equal|decorrelated,1s,30s, grpc:1s,max30s. Default: fixed:3s, exp:1s,x2,max30s, jitter:full,1s,30s.")
    var strategies: [String] = []

    @Option(help: "Sessions per strategy.")
    var sessions = 300

    @Option(help: "Arrivals: constant:RATE or poisson:RATE (per model second), or closed:CONCURRENCY.")
    var arrival = "constant:3"

    @Option(help: "Model time over which an open arrival rate ramps up from zero, e.g. 30s.")
    var ramp = "0s"

    @Option(help: "Provider mix, ID[=WEIGHT],… (default bankidse=3,frejaid=1,smartid=2,evrotrust=1,mitid=1).")
    var providers: String?

    @Option(help: "Seed of every random choice: arrivals, users, jitter.")
    var seed: UInt64 = 1

    @Option(help: "Model seconds per wall second for the embedded sandbox (a remote target runs at 1).")
    var timeScale: Double?

    @Option(help: "Event-loop threads, each with its own libcurl multi handle.")
    var workers = 1

    @Option(help: "Connections (easy handles) per worker.")
    var connections = 128

    @Option(help: "sequential (one strategy after another) or mixed (all at once under one credential).")
    var mode = "sequential"

    @Option(help: "Model time after which the client gives up on a session (published client: 5m).")
    var clientTimeout = "5m"

    @Option(help: "Times a create is retried after a 429, 5xx or transport error (with backoff, honouring Retry-After) before the session counts as an error.")
    var createRetries = 3

    @Option(help: "A remote API base URL instead of the embedded sandbox.")
    var target: String?

    @Flag(help: "Allow a target that is neither loopback nor a known sandbox host.")
    var allowNonSandbox = false

    @Option(help: "A CA bundle to verify a TLS target with.")
    var caBundle: String?

    @Option(help: "Where run directories go.")
    var output = "results"

    @Option(help: "The run's name, used in its directory name.")
    var name = "run"

    @Option(help: "Wall-clock limit for the whole run; it then stops and writes partial results.")
    var maxDuration = "10m"

    func validate() throws {
        guard (1...100_000).contains(sessions) else { throw ValidationError("--sessions must be 1...100000") }
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1...16") }
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections must be 1...10000") }
        guard ["sequential", "mixed"].contains(mode) else { throw ValidationError("--mode must be sequential or mixed") }
        guard (0...10).contains(createRetries) else { throw ValidationError("--create-retries must be 0...10") }
        if let timeScale {
            guard timeScale > 0, timeScale <= 1_000 else { throw ValidationError("--time-scale must be in (0, 1000]") }
            if target != nil, timeScale != 1 { throw ValidationError("--time-scale applies to the embedded sandbox only; a remote target runs in real time") }
        }
        guard !name.isEmpty, name.count <= 64 else { throw ValidationError("--name must be 1 to 64 characters") }
    }

    func run() async throws {
        do {
            let settings = try settings()
            let outcome = try await LiveRun(settings: settings).execute()
            if outcome.interrupted { throw ExitCode(130) }
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }

    /// Everything parsed and checked, or a one-line error.
    func settings() throws -> RunSettings {
        do {
            let parsed = try (strategies.isEmpty ? PollStrategy.defaultComparison : strategies.map { try PollStrategy(parsing: $0) })
            guard Set(parsed).count == parsed.count else { throw CommandFailure(message: "the same strategy is named twice") }
            guard let rampMillis = DurationText.milliseconds(ramp) else { throw CommandFailure(message: "--ramp: bad duration '\(ramp)'") }
            guard let timeout = DurationText.milliseconds(clientTimeout), timeout >= 1_000 else { throw CommandFailure(message: "--client-timeout: bad duration '\(clientTimeout)' (at least 1s)") }
            guard let limit = DurationText.milliseconds(maxDuration), limit >= 1_000, limit <= 24 * 3_600_000 else { throw CommandFailure(message: "--max-duration: bad duration '\(maxDuration)' (1s to 24h)") }
            let workload = Workload(
                sessions: sessions, arrival: try ArrivalModel(parsing: arrival), rampSeconds: Double(rampMillis) / 1_000,
                providerMix: try providers.map(Workload.parseMix) ?? Workload.defaultMix, seed: seed
            )
            return RunSettings(
                strategies: parsed, workload: workload, seed: seed, timeScale: target == nil ? (timeScale ?? 50) : 1, workers: workers,
                connections: connections, mixed: mode == "mixed", clientTimeoutMillis: timeout, createRetries: createRetries, target: try target.map { try RemoteTarget(url: $0, allowAnyHost: allowNonSandbox, caBundle: caBundle) },
                output: output, name: name, maxDuration: .milliseconds(limit)
            )
        } catch let error as StrategySyntaxError {
            throw CommandFailure(message: error.description)
        } catch let error as WorkloadError {
            throw CommandFailure(message: error.description)
        }
    }
}

/// A parsed run.
struct RunSettings: Sendable {
    var strategies: [PollStrategy]
    var workload: Workload
    var seed: UInt64
    var timeScale: Double
    var workers: Int
    var connections: Int
    var mixed: Bool
    var clientTimeoutMillis: Int64
    var createRetries: Int
    var target: RemoteTarget?
    var output: String
    var name: String
    var maxDuration: Duration
}

/// A remote API: its base URL and the credentials from the environment.
struct RemoteTarget: Sendable {
    static let knownSandboxHosts = ["sandbox.connect.hopae.com", "sandbox.api.hopae.com"]

    let baseURL: String
    let credentials: BasicCredentials
    let caBundle: String?

    init(url: String, allowAnyHost: Bool, caBundle: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty else {
            throw CommandFailure(message: "--target: '\(url)' is not an http(s) URL")
        }
        let loopback = host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
        guard loopback || Self.knownSandboxHosts.contains(host) || allowAnyHost else {
            throw CommandFailure(message: "--target: \(host) is neither loopback nor a known sandbox host; add --allow-non-sandbox if you mean it")
        }
        guard let id = environment[SandboxCredentials.idVariable], let secret = environment[SandboxCredentials.secretVariable], !id.isEmpty, !secret.isEmpty else {
            throw CommandFailure(message: "a remote target needs \(SandboxCredentials.idVariable) and \(SandboxCredentials.secretVariable) in the environment")
        }
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        credentials = BasicCredentials(clientID: id, clientSecret: secret)
        self.caBundle = caBundle
    }
}
