import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// An HTTP server on one address, on SwiftNIO's own pipeline: HTTP/1.1, or with TLS HTTP/2 and HTTP/1.1
/// by ALPN. A ``LoopbackResponder`` answers each request synchronously on its connection's event loop
/// (no task or actor hop per request, which is what kept the sandbox at a sixth of nginx's rate).
/// `start` returns once the socket is bound and accepting, with the port it got. The sandbox, the
/// webhook receiver and the metrics endpoint each run on one.
public struct LoopbackServer: Sendable {
    /// The bound port.
    public let port: Int
    private let listener: any Channel
    private let connections: ServerConnections

    /// How long a stop waits for the answers in flight (a held answer may take seconds) before it closes
    /// their connections.
    private static let drainDeadline = Duration.seconds(10)

    /// Serves `responder` on `host:port` (`port` 0: an ephemeral one): plain HTTP/1.1 or, with `tls`, HTTPS
    /// offering HTTP/2 and HTTP/1.1 by ALPN.
    /// - Throws: ``LoopbackServerError`` when it cannot listen there or the TLS material is unusable.
    public static func start(responder: some LoopbackResponder, host: String, port: Int, tls: TLSIdentity? = nil) async throws -> LoopbackServer {
        let context: NIOSSLContext?
        do {
            context = try tls.map { try NIOSSLContext(configuration: $0.serverConfiguration()) }
        } catch {
            throw LoopbackServerError(message: "cannot use the TLS certificate and key: \(error)")
        }
        let connections = ServerConnections()
        let bootstrap = ServerBootstrap(group: ServerEventLoops.group)
            .serverChannelOption(.backlog, value: 1_024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                connections.opened(channel)
                return channel.eventLoop.makeCompletedFuture {
                    guard let context else { return try http1(channel, responder: responder, connections: connections) }
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                }.flatMap {
                    guard context != nil else { return channel.eventLoop.makeSucceededVoidFuture() }
                    return channel.configureHTTP2SecureUpgrade(
                        h2ChannelConfigurator: { channel in http2(channel, responder: responder, connections: connections) },
                        http1ChannelConfigurator: { channel in
                            channel.eventLoop.makeCompletedFuture { try http1(channel, responder: responder, connections: connections) }
                        }
                    )
                }
            }
        let listener: any Channel
        do {
            listener = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw LoopbackServerError(message: "cannot listen on \(host):\(port): \(error)")
        }
        guard let bound = listener.localAddress?.port else {
            try? await listener.close()
            throw LoopbackServerError(message: "cannot listen on \(host):\(port)")
        }
        return LoopbackServer(port: bound, listener: listener, connections: connections)
    }

    /// An HTTP/1.x connection: our byte-level codec (``HTTP1Connection``). NIO's codec with its pipelining
    /// and error handlers held the sandbox near a quarter of nginx's rate: a quarter of its CPU went there.
    private static func http1(_ channel: any Channel, responder: some LoopbackResponder, connections: ServerConnections) throws {
        try channel.pipeline.syncOperations.addHandler(HTTP1Connection(responder: responder, connections: connections))
    }

    /// An HTTP/2 connection: each stream gets the HTTP/1-style codec and our handler, and ends on its last
    /// DATA frame (see ``StreamEndOnLastData``).
    private static func http2(_ channel: any Channel, responder: some LoopbackResponder, connections: ServerConnections) -> EventLoopFuture<Void> {
        channel.configureHTTP2Pipeline(mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandlers(
                    StreamEndOnLastData(), HTTP2FramePayloadToHTTP1ServerCodec(), HTTP2StreamHandler(responder: responder, connections: connections)
                )
            }
        }.map { _ in }
    }

    /// Stops accepting, lets the answers in flight finish (up to a deadline) and closes every connection.
    public func stop() async {
        try? await listener.close()
        await connections.drain(deadline: Self.drainDeadline)
    }
}

/// A server that could not start.
public struct LoopbackServerError: Error, CustomStringConvertible {
    /// One line saying why.
    public let message: String
    public var description: String { message }
}
