import PollBenchHTTPServer

/// A run's metrics served for Prometheus to scrape while the run goes: `GET /metrics` on loopback.
public struct MetricsServer: Sendable {
    private let server: LoopbackServer

    /// The bound port.
    public var port: Int { server.port }

    /// Listens on `host:port` (`port` 0: an ephemeral one).
    /// - Throws: ``LoopbackServerError`` when it cannot listen there.
    public static func start(_ metrics: RunMetrics, host: String, port: Int) async throws -> MetricsServer {
        MetricsServer(server: try await LoopbackServer.start(responder: MetricsResponder(metrics: metrics), host: host, port: port))
    }

    /// Stops listening.
    public func stop() async {
        await server.stop()
    }
}

/// `GET /metrics`: the exposition; anything else is not there.
private struct MetricsResponder: LoopbackResponder {
    let metrics: RunMetrics

    var maxBodyBytes: Int { 0 }

    func respond(to request: LoopbackRequest) -> LoopbackResponse {
        guard request.path == "/metrics" else { return LoopbackResponse(status: 404) }
        guard request.method == "GET" else { return LoopbackResponse(status: 405, headers: [("Allow", "GET")]) }
        return LoopbackResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: Array(metrics.exposition().utf8))
    }
}
