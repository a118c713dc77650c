import PollBenchHTTPServer
import PollBenchCore
import PollBenchRules

/// The simulated verification service on a socket (loopback unless asked otherwise): `pollbench sandbox`
/// runs one standalone, and `pollbench run` starts one in-process on an ephemeral port.
public final class SandboxServer: Sendable {
    /// The service behind the server: its rules and documents.
    public let service: SandboxService
    /// The model clock the server answers in.
    public let clock: ModelClock
    private let server: LoopbackServer
    private let sender: WebhookSender?
    /// `https` when it serves TLS, else `http`.
    public let scheme: String

    /// The bound port.
    public var port: Int { server.port }

    /// The address this machine reaches it at: its own, or loopback when it listens on every interface.
    private let localHost: String

    /// Where this machine reaches it, e.g. `http://127.0.0.1:8080` (`/admin/…` is there).
    public var rootURL: String { "\(scheme)://\(localHost):\(port)" }

    /// The API base URL, e.g. `http://127.0.0.1:8080/api/v1`.
    public var baseURL: String { rootURL + service.configuration.api.basePath }

    private init(service: SandboxService, clock: ModelClock, server: LoopbackServer, sender: WebhookSender?, scheme: String, host: String) {
        localHost = ["0.0.0.0", "::", "[::]"].contains(host) ? "127.0.0.1" : host.contains(":") ? "[\(host)]" : host
        self.service = service
        self.clock = clock
        self.server = server
        self.sender = sender
        self.scheme = scheme
    }

    /// Starts a server on `host` (127.0.0.1 unless given; `port` 0: an ephemeral one) and returns once it
    /// accepts connections.
    /// With `webhookTransport`, it also sends the webhooks of sessions created with a `webhookUrl`.
    /// With `tls`, it serves HTTPS, offering HTTP/2 and HTTP/1.1 by ALPN.
    /// `clockSkewMillis` runs the service's clock that far ahead of the wall clock (negative: behind), as
    /// a remote service's own clock may be: every timestamp it writes carries the skew.
    /// - Throws: ``SandboxServerError`` for a bad configuration or a port that cannot be bound.
    public static func start(
        configuration: SandboxConfiguration, host: String = "127.0.0.1", port: Int = 0, startMillis: Int64? = nil, clockSkewMillis: Int64 = 0,
        tls: TLSIdentity? = nil, webhookTransport: (any HTTPTransport)? = nil
    ) async throws -> SandboxServer {
        if let problem = configuration.problem() { throw SandboxServerError(message: "sandbox configuration: \(problem)") }
        let clock = startMillis.map { ModelClock(startMillis: $0 + clockSkewMillis, scale: configuration.timeScale) }
            ?? ModelClock.wall(scale: configuration.timeScale, skewMillis: clockSkewMillis)
        let start = clock.startMillis
        let service = SandboxService(configuration: configuration, startMillis: start)
        let scheme = tls == nil ? "http" : "https"
        let server: LoopbackServer
        do {
            server = try await LoopbackServer.start(
                responder: SandboxResponder(service: service, clock: clock, scheme: scheme), host: host, port: port, tls: tls
            )
        } catch {
            throw SandboxServerError(message: "\(error)")
        }
        service.origin = "\(scheme)://127.0.0.1:\(server.port)"  // for a request without a Host header
        let sender = webhookTransport.map { WebhookSender(service: service, clock: clock, transport: $0) }
        return SandboxServer(service: service, clock: clock, server: server, sender: sender, scheme: scheme, host: host)
    }

    /// Stops sending webhooks, once the attempts in flight are answered: the webhook counts are final then.
    public func stopWebhooks() {
        sender?.stop()
    }

    /// Stops accepting, lets open requests finish and waits for the server to end.
    public func stop() async {
        sender?.stop()
        await server.stop()
    }
}

/// A sandbox that could not start.
public struct SandboxServerError: Error, CustomStringConvertible {
    /// One line saying why.
    public let message: String
    public var description: String { message }
}
