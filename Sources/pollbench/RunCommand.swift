import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchCurl
import PollBenchLive
import PollBenchRules

/// `pollbench run`: the main job. Compares polling strategies on one workload.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run verification sessions and compare polling strategies (default: against the embedded sandbox).",
        discussion: """
        Exit codes: 0 done, 1 a threshold failed or a strategy measured nothing, 2 bad usage or suite error, 3 target unreachable, \
        refused or not the API (decided before the first session), \
        130 interrupted (partial results written).

        A remote target reads its credentials from --credentials FILE or from POLLBENCH_CLIENT_ID and \
        POLLBENCH_CLIENT_SECRET in the environment.

        Webhook strategies (webhook, webhook+SAFETY) run a receiver on --webhook-listen (loopback); it checks \
        each delivery's X-Hopae-Signature with POLLBENCH_WEBHOOK_SECRET (the embedded sandbox makes a \
        throwaway one when it is not set; a remote target needs it).
        """
    )

    @OptionGroup var options: RunOptions

    func run() async throws {
        do {
            let loaded = try options.suite.map(SuiteFiles.load)
            let base = try options.settings(suite: loaded)
            let rates = loaded?.capacityRates ?? []
            if let line = base.unjudgedThresholdsLine { Console.out(line) }
            if rates.isEmpty {
                let outcome = try await LiveRunConsole.run(base)
                if outcome.interrupted { throw ExitCode(130) }
                if outcome.record.fails { throw ExitCode(1) }
            } else {
                try await searchCapacity(base: base, rates: rates)
            }
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }

    /// Runs a capacity search live, printing each step's run and, at the end, the knee or why there is none.
    private func searchCapacity(base: RunSettings, rates: [Double]) async throws {
        let search: CapacitySearch
        do { search = try CapacitySearch(base: base, rates: rates) } catch { throw CommandFailure(message: error.message, exitCode: error.exitCode) }
        let result = try await search.execute { rate, settings in
            Console.out("capacity: arrival rate \(rate) per model second")
            let outcome = try await LiveRunConsole.run(settings)
            return (outcome.record, outcome.interrupted)
        }
        if result.interrupted { throw ExitCode(130) }
        if let bound = result.harnessBound {
            Console.out("capacity: at \(bound) per model second pollbench itself limited the run (the warning above): "
                + (result.knee.map { "the target's knee is \($0) or higher, beyond what this machine can drive" } ?? "no rate was measured with the harness unbound"))
        }
        guard let knee = result.knee else {
            if result.harnessBound == nil { Console.out("capacity: no rate met every threshold (lowest tried: \(rates.first ?? 0) per model second)") }
            throw ExitCode(1)
        }
        if result.harnessBound == nil {
            Console.out("capacity knee: \(knee) sessions per model second — the highest rate tried that met every threshold")
        }
    }
}

/// Every option of `pollbench run`, which `simulate` and `tune` take too; `settings(suite:)` lays them
/// over a suite.
struct RunOptions: ParsableArguments {
    @Option(help: "A suite: a name from 'pollbench suites' or a path to a YAML file. Flags given as well override it.")
    var suite: String?

    @Option(name: .customLong("strategy"), help: "A strategy, repeatable: fixed:3s, exp:1s,x2,max30s, jitter:full|equal|decorrelated,1s,30s, grpc:1s,max30s, webhook, webhook+fixed:30s (any poll strategy after +). Default: fixed:3s, exp:1s,x2,max30s, jitter:full,1s,30s.")
    var strategies: [String] = []

    @Option(help: "Sessions per strategy (default 300).")
    var sessions: Int?

    @Option(help: "Arrivals: constant:RATE or poisson:RATE (per model second), or closed:CONCURRENCY (default constant:3).")
    var arrival: String?

    @Option(help: "Model time over which an open arrival rate ramps up from zero, e.g. 30s.")
    var ramp: String?

    @Option(help: "Provider mix, ID[=WEIGHT],… (default bankidse=3,frejaid=1,smartid=2,evrotrust=1,mitid=1).")
    var providers: String?

    @Option(help: "A user model (users.yaml, as 'pollbench calibrate' writes): the embedded sandbox's users, and what optimal strategies are planned for.")
    var users: String?

    @Option(help: "Seed of every random choice: arrivals, users, jitter (default 1).")
    var seed: UInt64?

    @Option(help: "Model seconds per wall second for the embedded sandbox (default 50; a remote target runs at 1, or at the scale a pollbench sandbox announces).")
    var timeScale: Double?

    @Option(help: "Event-loop threads, each with its own libcurl multi handle (default 1).")
    var workers: Int?

    @Option(help: "Connections (easy handles) per worker.")
    var connections = 128

    @Option(help: "sequential (one strategy after another, the default) or mixed (all at once under one credential).")
    var mode: String?

    @Option(help: "Model time after which the client gives up on a session (published client: 5m).")
    var clientTimeout: String?

    @Option(help: "Times a create is retried after a 429, 5xx or transport error (with backoff, honouring Retry-After) before the session counts as an error (default 3).")
    var createRetries: Int?

    @Option(help: "A remote API base URL instead of the embedded sandbox.")
    var target: String?

    @Option(help: "A remote target's credentials file (POLLBENCH_CLIENT_ID=… and POLLBENCH_CLIENT_SECRET=… lines, mode 0600) instead of the environment.")
    var credentials: String?

    @Flag(help: "Print every request and response on standard error (the Authorization header is redacted).")
    var trace = false

    @Flag(help: "Allow a target that is neither loopback nor a known sandbox host.")
    var allowNonSandbox = false

    @Option(help: "A CA bundle to verify a TLS target with.")
    var caBundle: String?

    @Flag(help: "Serve the embedded sandbox over HTTPS (a self-signed certificate made at start, which the client verifies), offering HTTP/2 and HTTP/1.1.")
    var tls = false

    @Option(help: "The HTTP version to ask for: 1.1, 2 (by ALPN over TLS, prior knowledge over plain HTTP) or auto (HTTP/2 where TLS offers it).")
    var http = "auto"

    @Option(help: "Where run directories go.")
    var output = "results"

    @Option(help: "Also write the thresholds as JUnit XML to this file: a test suite per strategy, a test case per threshold.")
    var junit: String?

    @Option(help: "The run's name, used in its directory name (default: the suite's name, or run).")
    var name: String?

    @Option(help: "Where the webhook receiver listens, HOST:PORT on loopback (port 0: an ephemeral port).")
    var webhookListen = "127.0.0.1:0"

    @Option(help: "The address the service posts webhooks to, when it is not the receiver's own (e.g. a tunnel to --webhook-listen); sessions add /ROUND/WORKER/SESSION.")
    var webhookUrl: String?

    @Option(help: "Model time after which a pure webhook session reads the status once (default: the client timeout).")
    var webhookTimeout: String?

    @Option(help: "Run shard K of N (K/N, K from 0): the sessions whose key falls to it, with the arrival rate and request cap divided. Merge the shards with 'pollbench merge'.")
    var shard: String?

    @Option(help: "Run one of N shards, K read from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).")
    var shards: Int?

    @Option(help: "Wall-clock limit for the whole run; it then stops and writes partial results (default 10m).")
    var maxDuration: String?

    @Option(help: "Hard cap on requests per wall second over all workers; requests over it wait (default 20000).")
    var maxRate: Double?

    @Option(help: "A live request's wall-clock limit, connection included; an interrupted run waits at most this long for its requests in flight (default 30s).")
    var requestTimeout: String?

    @Option(help: "Serve the run's live metrics for Prometheus at http://HOST:PORT/metrics while it runs (loopback; port 0: an ephemeral one, printed). Live runs only.")
    var metricsListen: String?

    @Flag(help: "Give the embedded sandbox's client no request budget (default: 25 requests per model second, bursts of 25).")
    var noRateLimit = false

    func validate() throws {
        let limits = Suite.Limits.self
        if let sessions, !limits.sessions.contains(sessions) { throw ValidationError("--sessions must be \(limits.sessions)") }
        if let workers, !limits.workers.contains(workers) { throw ValidationError("--workers must be \(limits.workers)") }
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections must be 1...10000") }
        if let mode, !["sequential", "mixed"].contains(mode) { throw ValidationError("--mode must be sequential or mixed") }
        if let createRetries, !limits.createRetries.contains(createRetries) { throw ValidationError("--create-retries must be \(limits.createRetries)") }
        if let timeScale {
            if let problem = ModelClock.scaleProblem(timeScale) { throw ValidationError("--time-scale: \(problem)") }
            if target != nil, timeScale != 1 { throw ValidationError("--time-scale applies to the embedded sandbox only; a remote target runs in real time, or at the scale a pollbench sandbox announces") }
        }
        if let name, name.isEmpty || name.count > 64 { throw ValidationError("--name must be 1 to 64 characters") }
        if let maxRate, !limits.maxRequestsPerSecond.contains(maxRate) {
            throw ValidationError("--max-rate must be \(Int(limits.maxRequestsPerSecond.lowerBound))...\(Int(limits.maxRequestsPerSecond.upperBound)) requests per second")
        }
        if HTTPVersionChoice(rawValue: http) == nil { throw ValidationError("--http must be 1.1, 2 or auto") }
        if tls, target != nil { throw ValidationError("--tls serves the embedded sandbox over HTTPS; for a remote target give an https:// --target (and --ca-bundle)") }
    }

    /// The shard from `--shard K/N`, or from `--shards N` and `JOB_COMPLETION_INDEX`; nil: the whole run.
    func shardFlag(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        switch (shard, shards) {
        case (nil, nil):
            return nil
        case (let text?, nil):
            do { return try Shard(parsing: text) } catch { throw CommandFailure(message: "--shard: \(error.description)") }
        case (nil, let count?):
            guard let text = environment["JOB_COMPLETION_INDEX"], let index = Int(text) else {
                throw CommandFailure(message: "--shards needs JOB_COMPLETION_INDEX in the environment (a Kubernetes Indexed Job sets it); or give --shard K/N")
            }
            do { return try Shard(parsing: "\(index)/\(count)") } catch { throw CommandFailure(message: "--shards \(count) with JOB_COMPLETION_INDEX=\(text): \(error.description)") }
        case (_?, _?):
            throw CommandFailure(message: "give --shard K/N or --shards N, not both")
        }
    }

    /// A duration flag within ``Suite/Limits/durationMillis``; nil when not given.
    private func duration(_ text: String?, flag: String) throws -> Int64? {
        guard let text else { return nil }
        guard let millis = DurationText.milliseconds(text), Suite.Limits.durationMillis.contains(millis) else {
            throw CommandFailure(message: "\(flag): bad duration '\(text)' (1s to 24h)")
        }
        return millis
    }

    /// The suite's settings (or the defaults), with every flag given on the command line on top.
    func settings(suite: Suite?) throws -> RunSettings {
        do {
            var plan = suite ?? Suite(name: "run", description: "", workload: Workload(sessions: 300, arrival: .constant(perSecond: 3), seed: 1))
            if !strategies.isEmpty {
                plan.strategies = try strategies.map { try PollStrategy(parsing: $0) }
                guard Set(plan.strategies).count == plan.strategies.count else { throw CommandFailure(message: "the same strategy is named twice") }
            }
            if let seed { plan.seed = seed }
            if let sessions { plan.workload.sessions = sessions }
            if let arrival { plan.workload.arrival = try ArrivalModel(parsing: arrival) }
            if let ramp {
                guard let millis = DurationText.milliseconds(ramp) else { throw CommandFailure(message: "--ramp: bad duration '\(ramp)'") }
                plan.workload.rampSeconds = Double(millis) / 1_000
            }
            if let providers { plan.workload.providerMix = try Workload.parseMix(providers) }
            if let users {
                try FlagValues.applyUsers(users, to: &plan.sandbox)
                plan.usersFile = users
            }
            if let timeScale { plan.timeScale = timeScale }
            if let workers { plan.workers = workers }
            if let mode { plan.mixed = mode == "mixed" }
            if let createRetries { plan.createRetries = createRetries }
            if let millis = try duration(clientTimeout, flag: "--client-timeout") { plan.clientTimeoutMillis = millis }
            if let millis = try duration(maxDuration, flag: "--max-duration") { plan.maxDurationMillis = millis }
            if let maxRate { plan.maxRequestsPerSecond = maxRate }
            if noRateLimit {
                plan.rateLimit = nil
                plan.endpointLimits = [:]
            }
            plan.workload.shard = try shardFlag()
            if let millis = try duration(webhookTimeout, flag: "--webhook-timeout") { plan.webhookTimeoutMillis = millis }
            if let target { plan.target = target }
            if plan.target == nil {  // a remote target's providers are checked against its own list, by the preflight
                try FlagValues.refuseUnknownProviders(plan.workload.providerMix, offered: plan.sandbox.providers.map(\.id), flag: providers == nil ? "the suite's providers" : "--providers")
            }
            if plan.target != nil, timeScale == nil { plan.timeScale = 1 }  // a real service runs in real time
            guard plan.target == nil || plan.timeScale == 1 else { throw CommandFailure(message: "a remote target runs in real time: its time scale must be 1") }
            if let problem = plan.problem() { throw CommandFailure(message: problem) }
            if let problem = plan.memoryProblem(available: AvailableMemory.bytes()) { throw CommandFailure(message: problem) }
            if plan.target != nil, plan.usersFile == nil, let optimal = plan.strategies.first(where: { $0.optimalSchedule != nil }) {
                throw CommandFailure(message: "\(optimal.name) against a remote target needs its users' model: give --users FILE ('pollbench calibrate' writes one from a run)")
            }
            plan = plan.planned()
            try ResultFiles.checkRoot(output)
            try ResultFiles.checkFile(junit, flag: "--junit")
            var timeout = Duration.seconds(30)
            if let requestTimeout {
                guard let millis = DurationText.milliseconds(requestTimeout), millis >= 100, millis <= 600_000 else {
                    throw CommandFailure(message: "--request-timeout: bad duration '\(requestTimeout)' (100ms to 10m)")
                }
                timeout = .milliseconds(millis)
            }
            return RunSettings(
                suite: plan, name: name ?? (suite?.name ?? "run"), connections: connections,
                target: try plan.target.map { try RemoteTarget(url: $0, allowAnyHost: allowNonSandbox, caBundle: caBundle, credentialsFile: credentials) },
                output: output, junit: junit, trace: trace, tls: tls, httpVersion: HTTPVersionChoice(rawValue: http) ?? .auto,
                webhooks: plan.usesWebhooks ? try WebhookSettings(listen: webhookListen, url: webhookUrl, embedded: plan.target == nil) : nil,
                requestTimeout: timeout, metricsListen: try metricsListen.map { try ListenAddress($0, flag: "--metrics-listen") }
            )
        } catch let error as StrategySyntaxError {
            throw CommandFailure(message: error.description)
        } catch let error as WorkloadError {
            throw CommandFailure(message: error.description)
        }
    }
}

/// A remote target from `--target` and the credentials from `--credentials` or the environment.
extension RemoteTarget {
    init(url: String, allowAnyHost: Bool, caBundle: String?, credentialsFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty else {
            throw CommandFailure(message: "--target: '\(url)' is not an http(s) URL")
        }
        guard LoopbackURL.isLoopback(url) || Self.knownSandboxHosts.contains(host) || allowAnyHost else {
            throw CommandFailure(message: "--target: \(host) is neither loopback nor a known sandbox host; add --allow-non-sandbox if you mean it")
        }
        let credentials: BasicCredentials
        if let credentialsFile {
            let (id, secret) = try CredentialsFile.load(credentialsFile)
            credentials = BasicCredentials(clientID: id, clientSecret: secret)
        } else if let id = environment[CredentialsFile.idVariable], let secret = environment[CredentialsFile.secretVariable], !id.isEmpty, !secret.isEmpty {
            credentials = BasicCredentials(clientID: id, clientSecret: secret)
        } else {
            throw CommandFailure(message: "a remote target needs --credentials FILE, or \(CredentialsFile.idVariable) and \(CredentialsFile.secretVariable) in the environment")
        }
        if let caBundle {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: caBundle, isDirectory: &isDirectory), !isDirectory.boolValue, FileManager.default.isReadableFile(atPath: caBundle) else {
                throw CommandFailure(message: "--ca-bundle: cannot read \(caBundle)")
            }
        }
        self.init(baseURL: url.hasSuffix("/") ? String(url.dropLast()) : url, credentials: credentials, caBundle: caBundle)
    }
}

/// The webhook receiver's settings from `--webhook-listen`, `--webhook-url` and the environment.
extension WebhookSettings {
    init(listen: String, url: String?, embedded: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let address = try ListenAddress(listen, flag: "--webhook-listen", elsewhere: " (expose it with --webhook-url)")
        if let url {
            guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme ?? ""), components.host != nil else {
                throw CommandFailure(message: "--webhook-url: '\(url)' is not an http(s) URL")
            }
            guard !embedded || LoopbackURL.isLoopback(url) else {
                throw CommandFailure(message: "--webhook-url: the embedded sandbox posts to loopback only; a public URL is for a remote target")
            }
        }
        let secret: String
        if let given = environment[Self.secretVariable], !given.isEmpty {
            secret = given
        } else if embedded {
            var random = SystemRandomNumberGenerator()
            secret = (0..<4).map { _ in String(format8: random.next()) }.joined()
        } else {
            throw CommandFailure(message: "webhook strategies against a remote target need \(Self.secretVariable): the key the service signs its webhooks with")
        }
        self.init(host: address.host, port: address.port, url: url.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }, secret: secret)
    }
}
