import Hummingbird
import Logging
import PollBenchCore
import ServiceLifecycle
import Synchronization

/// The simulated verification service on a loopback socket: `pollbench sandbox` runs one standalone,
/// and `pollbench run` starts one in-process on an ephemeral port.
public final class SandboxServer: Sendable {
    /// The service behind the server: its rules and documents.
    public let service: SandboxService
    /// The model clock the server answers in.
    public let clock: ModelClock
    /// The bound port.
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let sender: WebhookSender?

    /// The API base URL, e.g. `http://127.0.0.1:8080/api/v1`.
    public var baseURL: String { "http://127.0.0.1:\(port)/api/v1" }

    private init(service: SandboxService, clock: ModelClock, port: Int, group: ServiceGroup, task: Task<Void, any Error>, sender: WebhookSender?) {
        self.service = service
        self.sender = sender
        self.clock = clock
        self.port = port
        self.group = group
        self.task = task
    }

    /// Starts a server on 127.0.0.1 (`port` 0: an ephemeral one) and returns once it accepts connections.
    /// With `webhookTransport`, it also sends the webhooks of sessions created with a `webhookUrl`.
    /// - Throws: ``SandboxServerError`` for a bad configuration or a port that cannot be bound.
    public static func start(
        configuration: SandboxConfiguration, port: Int = 0, startMillis: Int64? = nil, webhookTransport: (any HTTPTransport)? = nil
    ) async throws -> SandboxServer {
        if let problem = configuration.problem() { throw SandboxServerError(message: "sandbox configuration: \(problem)") }
        let start = startMillis ?? WallClock.nowMillis()
        let clock = ModelClock(startMillis: start, scale: configuration.timeScale)
        let service = SandboxService(configuration: configuration, startMillis: start)
        var logger = Logger(label: "pollbench.sandbox")
        logger.logLevel = .error
        let bound = AsyncStream<Int?>.makeStream()
        let application = Application(
            responder: SandboxResponder(service: service, clock: clock),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in
                bound.continuation.yield(channel.localAddress?.port)
                bound.continuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: logger))
        let task = Task {
            defer { bound.continuation.finish() }
            try await group.run()
        }
        var iterator = bound.stream.makeAsyncIterator()
        guard let boundPort = await iterator.next() ?? nil else {
            task.cancel()
            let failure = await task.result
            if case .failure(let error) = failure { throw SandboxServerError(message: "cannot listen on 127.0.0.1:\(port): \(error)") }
            throw SandboxServerError(message: "cannot listen on 127.0.0.1:\(port)")
        }
        service.origin = "http://127.0.0.1:\(boundPort)"
        let sender = webhookTransport.map { WebhookSender(service: service, clock: clock, transport: $0) }
        return SandboxServer(service: service, clock: clock, port: boundPort, group: group, task: task, sender: sender)
    }

    /// Stops sending webhooks, once the attempts in flight are answered: the webhook counts are final then.
    public func stopWebhooks() {
        sender?.stop()
    }

    /// Stops accepting, lets open requests finish and waits for the server to end.
    public func stop() async {
        sender?.stop()
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Serves until the calling task is cancelled.
    public func wait() async {
        _ = await task.result
    }
}

/// A sandbox that could not start.
public struct SandboxServerError: Error, CustomStringConvertible {
    /// One line saying why.
    public let message: String
    public var description: String { message }
}
