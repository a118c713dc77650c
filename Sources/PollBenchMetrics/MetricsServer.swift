import Hummingbird
import PollBenchHTTPServer

/// A run's metrics served for Prometheus to scrape while the run goes: `GET /metrics` on loopback.
public struct MetricsServer: Sendable {
    private let server: LoopbackServer

    /// The bound port.
    public var port: Int { server.port }

    /// Listens on `host:port` (`port` 0: an ephemeral one).
    /// - Throws: ``LoopbackServerError`` when it cannot listen there.
    public static func start(_ metrics: RunMetrics, host: String, port: Int) async throws -> MetricsServer {
        let router = Router()
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        return MetricsServer(server: try await LoopbackServer.start(responder: router.buildResponder(), host: host, port: port, label: "pollbench.metrics"))
    }

    /// Stops listening.
    public func stop() async {
        await server.stop()
    }
}
