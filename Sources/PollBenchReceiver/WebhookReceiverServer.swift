import PollBenchHTTPServer
import PollBenchCore
import PollBenchRules
import Synchronization

/// pollbench's webhook receiver on a socket: every POST goes to a ``WebhookReceiver`` (size, signature,
/// timestamp, replay and document checks), is answered with its verdict, and what names a session of the
/// running round is handed to that worker's ``WebhookInbox``, to reach the session on its engine's loop.
public final class WebhookReceiverServer: Sendable {
    /// The checks and the counts.
    public let receiver: WebhookReceiver
    private let routes: Routes
    private let server: LoopbackServer

    /// The bound port.
    public var port: Int { server.port }

    private init(receiver: WebhookReceiver, routes: Routes, server: LoopbackServer) {
        self.receiver = receiver
        self.routes = routes
        self.server = server
    }

    /// Listens on `host:port` (`port` 0: an ephemeral one), answering in model time `clock`.
    /// - Throws: ``WebhookReceiverError`` when it cannot listen there.
    public static func start(receiver: WebhookReceiver, host: String, port: Int, clock: ModelClock) async throws -> WebhookReceiverServer {
        let routes = Routes()
        do {
            let server = try await LoopbackServer.start(
                responder: ReceiverResponder(receiver: receiver, clock: clock, routes: routes), host: host, port: port
            )
            return WebhookReceiverServer(receiver: receiver, routes: routes, server: server)
        } catch {
            throw WebhookReceiverError(message: "webhook receiver: \(error)")
        }
    }

    /// Routes deliveries to a new round: one inbox per worker, with its number of sessions.
    public func open(round: Int, inboxes: [(inbox: WebhookInbox, sessions: Int)]) {
        receiver.open(round: round, sessionsPerWorker: inboxes.map(\.sessions))
        routes.inboxes.withLock { $0 = inboxes.map(\.inbox) }
    }

    /// Stops listening.
    public func stop() async {
        await server.stop()
    }
}

/// The inboxes of the running round, shared by the server and its responder.
private final class Routes: Sendable {
    let inboxes = Mutex<[WebhookInbox]>([])
}

private struct ReceiverResponder: LoopbackResponder {
    let receiver: WebhookReceiver
    let clock: ModelClock
    let routes: Routes

    var maxBodyBytes: Int { receiver.maxBodyBytes }

    func respond(to request: LoopbackRequest) -> LoopbackResponse {
        guard request.method == "POST" else { return LoopbackResponse(status: 405, headers: [("Allow", "POST")]) }
        let answer = receiver.receive(path: request.path, signature: request.header(WebhookSignature.header), body: request.body, nowMillis: clock.nowMillis())
        if var delivery = answer.delivery, let inbox = routes.inboxes.withLock({ $0.indices.contains(delivery.route.worker) ? $0[delivery.route.worker] : nil }) {
            delivery.received = .now
            inbox.post(delivery)
        }
        return LoopbackResponse(status: answer.status)
    }
}

/// A receiver that could not start.
public struct WebhookReceiverError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
