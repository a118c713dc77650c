import Foundation
import PollBenchCore
import PollBenchCurl
import PollBenchRules

/// A live run's settings: the suite (given or built from flags) and what only a live run has.
public struct RunSettings: Sendable {
    public var suite: Suite
    public var name: String
    public var connections: Int
    public var target: RemoteTarget?
    /// Where the run directory goes.
    public var output: String
    /// Where the thresholds go as JUnit XML, if anywhere.
    public var junit: String?
    /// Whether every request and answer is printed (credentials redacted).
    public var trace: Bool
    /// Whether the embedded sandbox serves HTTPS.
    public var tls: Bool
    /// The HTTP version the client asks for.
    public var httpVersion: HTTPVersionChoice
    /// The receiver's settings, when a strategy uses webhooks.
    public var webhooks: WebhookSettings?
    /// A live request's wall-clock limit.
    public var requestTimeout: Duration
    /// Where the live metrics are served during the run, if anywhere.
    public var metricsListen: ListenAddress?

    public init(
        suite: Suite, name: String, connections: Int, target: RemoteTarget?, output: String, junit: String?, trace: Bool, tls: Bool = false,
        httpVersion: HTTPVersionChoice = .auto, webhooks: WebhookSettings? = nil, requestTimeout: Duration = .seconds(30), metricsListen: ListenAddress? = nil
    ) {
        self.suite = suite
        self.name = name
        self.connections = connections
        self.target = target
        self.output = output
        self.junit = junit
        self.trace = trace
        self.tls = tls
        self.httpVersion = httpVersion
        self.webhooks = webhooks
        self.requestTimeout = requestTimeout
        self.metricsListen = metricsListen
    }

    public var strategies: [PollStrategy] { suite.strategies }

    /// One line naming the suite's thresholds that no strategy of the run is judged on (a `--strategy`
    /// override left their strategy out); nil when every threshold is judged.
    public var unjudgedThresholdsLine: String? {
        let dropped = suite.checksForStrategiesNotRun
        guard !dropped.isEmpty else { return nil }
        let named = dropped.map { "\($0.threshold.expression) [\($0.strategy ?? "")]" }.joined(separator: "; ")
        return "note: \(dropped.count) of the suite's \(suite.checks.count) thresholds are not judged, their strategy is not run: \(named)"
    }
    public var workload: Workload { suite.workload }
    public var seed: UInt64 { suite.seed }
    public var workers: Int { suite.workers }
    public var maxDuration: Duration { .milliseconds(suite.maxDurationMillis) }
}

/// A remote API: its base URL, the client's credentials and the CA file its certificate is checked against.
public struct RemoteTarget: Sendable {
    /// The provider's sandboxes, which a run may target without `--allow-non-sandbox`.
    public static let knownSandboxHosts = ["sandbox.connect.hopae.com", "sandbox.api.hopae.com"]

    public let baseURL: String
    public let credentials: BasicCredentials
    public let caBundle: String?

    public init(baseURL: String, credentials: BasicCredentials, caBundle: String?) {
        self.baseURL = baseURL
        self.credentials = credentials
        self.caBundle = caBundle
    }
}

/// Where webhooks are received, and with which key they are checked.
public struct WebhookSettings: Sendable {
    /// The environment variable that holds the signing key.
    public static let secretVariable = "POLLBENCH_WEBHOOK_SECRET"

    public let host: String
    public let port: Int
    /// The public address the service posts to; nil: the receiver's own.
    public let url: String?
    /// The signing key. Never printed, logged or written.
    public let secret: String

    public init(host: String, port: Int, url: String?, secret: String) {
        self.host = host
        self.port = port
        self.url = url
        self.secret = secret
    }

    /// The receiver's own address, as sessions give it.
    public func localURL(port bound: Int) -> String {
        "http://\(host.contains(":") ? "[\(host)]" : host):\(bound)/webhooks"
    }
}

/// A HOST:PORT on loopback that pollbench listens on (port 0: an ephemeral one).
public struct ListenAddress: Sendable {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// Why a live run could not start or go on: one line, and the exit code it means (3: the target or a
/// server of the run's own could not be reached or started; 2: the settings do not fit the target).
public struct LiveRunFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let exitCode: Int32

    public init(message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}
