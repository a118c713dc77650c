import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import ServiceLifecycle

/// A Hummingbird server on one address, started and stopped as pollbench's servers need it: `start`
/// returns once the socket is bound and accepting, with the port it got. The sandbox and the webhook
/// receiver both run on one.
public struct LoopbackServer: Sendable {
    /// The bound port.
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Serves `responder` on `host:port` (`port` 0: an ephemeral one): plain HTTP/1.1 or, with `tls`, HTTPS
    /// offering HTTP/2 and HTTP/1.1 by ALPN.
    /// - Throws: ``LoopbackServerError`` when it cannot listen there or the TLS material is unusable.
    public static func start<Responder: HTTPResponder>(
        responder: Responder, host: String, port: Int, label: String, tls: TLSIdentity? = nil
    ) async throws -> LoopbackServer
    where Responder.Context: RequestContext & InitializableFromSource<ApplicationRequestContextSource> {
        var logger = Logger(label: label)
        logger.logLevel = .error
        let bound = AsyncStream<Int?>.makeStream()
        let server: HTTPServerBuilder
        do {
            // Over HTTP/2 a response's stream ends on its last DATA frame (see StreamEndOnLastData).
            let streams = HTTP2UpgradeChannel.Configuration(streamConfiguration: .init(additionalChannelHandlers: [HTTP2StreamEndInstaller()]))
            server = try tls.map { try .http2Upgrade(tlsConfiguration: try $0.serverConfiguration(), configuration: streams) } ?? .http1()
        } catch {
            throw LoopbackServerError(message: "cannot use the TLS certificate and key: \(error)")
        }
        let application = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
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
            if case .failure(let error) = await task.result { throw LoopbackServerError(message: "cannot listen on \(host):\(port): \(error)") }
            throw LoopbackServerError(message: "cannot listen on \(host):\(port)")
        }
        return LoopbackServer(port: boundPort, group: group, task: task)
    }

    /// Stops accepting, lets open requests finish and waits for the server to end.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Serves until the calling task is cancelled.
    public func wait() async {
        _ = await task.result
    }
}

/// A server that could not start.
public struct LoopbackServerError: Error, CustomStringConvertible {
    /// One line saying why.
    public let message: String
    public var description: String { message }
}
