import Foundation
import HTTPTypes
import Hummingbird
import PollBenchCore
import PollBenchRules

/// Adapts Hummingbird requests to ``SandboxService`` and delivers its answers, faults included.
/// A plain responder rather than a router: the service routes for itself, so the live server, the
/// in-process tests and the simulator share one routing table.
struct SandboxResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let service: SandboxService
    let clock: ModelClock
    /// `http` or `https`: with the `Host` a client sent, where it reaches the service.
    let scheme: String
    private static let workloadKey = HTTPField.Name("X-Pollbench-Key")!

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix("/admin/") { return admin(path, method: request.method) }
        var request = request
        let limit = service.configuration.maxBodyBytes
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch {
            return response(service.errorResponse(.bodyTooLarge(limit), instance: path, now: clock.nowMillis()))
        }
        let answer = service.handle(
            SandboxRequest(
                method: request.method.rawValue, path: path,
                authorization: request.headers[.authorization], workloadKey: request.headers[Self.workloadKey],
                body: Array(body.readableBytesView), origin: request.head.authority.map { "\(scheme)://\($0)" }
            ),
            now: clock.nowMillis()
        )
        if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
        let headers = fields(answer)
        let status = HTTPResponse.Status(code: answer.status)
        let bytes = ByteBuffer(bytes: answer.body)
        switch answer.delivery {
        case .normal:
            return response(answer)
        case .closeMidResponse:
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: bytes.readableBytes) { writer in
                try await writer.write(bytes.getSlice(at: 0, length: bytes.readableBytes / 2) ?? ByteBuffer())
                throw InjectedFault.connectionClosed
            })
        case .drip(let millis):
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: bytes.readableBytes) { writer in
                let pieces = 10
                let size = max(1, (bytes.readableBytes + pieces - 1) / pieces)
                var offset = 0
                while offset < bytes.readableBytes {
                    let length = min(size, bytes.readableBytes - offset)
                    try await writer.write(bytes.getSlice(at: offset, length: length) ?? ByteBuffer())
                    offset += length
                    try await Task.sleep(for: .milliseconds(millis / pieces))
                }
                try await writer.finish(nil)
            })
        }
    }

    /// Ground truth for the harness: `stats` (JSON counts, and the time scale), `sessions` (JSON, with
    /// terminal times), `metrics` (Prometheus); and `health`, for a probe (a container's liveness check).
    private func admin(_ path: String, method: HTTPRequest.Method) -> Response {
        guard method == .get else { return response(service.errorResponse(.methodNotAllowed(method.rawValue), instance: path, now: clock.nowMillis())) }
        let now = clock.nowMillis()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        switch path {
        case "/admin/stats":
            let counts = (try? encoder.encode(service.groundTruth(now: now))).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
            let stats = counts.merging(["timeScale": clock.scale]) { $1 }
            return json(200, (try? JSONSerialization.data(withJSONObject: stats, options: [.sortedKeys])).map(Array.init) ?? Array("{}".utf8))
        case "/admin/health":
            let health: [String: Any] = ["status": "ok", "timeScale": clock.scale, "sessionsInMemory": service.liveSessionCount()]
            return json(200, (try? JSONSerialization.data(withJSONObject: health, options: [.sortedKeys])).map(Array.init) ?? Array("{}".utf8))
        case "/admin/sessions":
            return json(200, (try? encoder.encode(service.sessionRecords(now: now))).map(Array.init) ?? Array("[]".utf8))
        case "/admin/metrics":
            var headers = announcing(HTTPFields())
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: PrometheusText.render(service.groundTruth(now: now), live: service.liveSessionCount()))))
        default:
            return response(service.errorResponse(.routeNotFound(path), instance: path, now: now))
        }
    }

    /// A service answer as it is, without faults.
    private func response(_ answer: SandboxResponse) -> Response {
        Response(status: HTTPResponse.Status(code: answer.status), headers: fields(answer), body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    /// A service answer's header fields as Hummingbird takes them, with the time scale announced.
    private func fields(_ answer: SandboxResponse) -> HTTPFields {
        var headers = HTTPFields()
        for header in answer.headers {
            if let name = HTTPField.Name(header.name) { headers[name] = header.value }
        }
        return announcing(headers)
    }

    private static let timeScale = HTTPField.Name(ModelClock.timeScaleHeader)!

    /// `headers` with the sandbox's time scale, which every answer carries.
    private func announcing(_ headers: HTTPFields) -> HTTPFields {
        var headers = headers
        headers[Self.timeScale] = NumberText.short(clock.scale)
        return headers
    }

    private func json(_ status: Int, _ bytes: [UInt8]) -> Response {
        var headers = announcing(HTTPFields())
        headers[.contentType] = "application/json"
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Thrown from a response body writer to drop the connection half-way.
enum InjectedFault: Error {
    case connectionClosed
}

/// The ground truth in Prometheus' text exposition format.
enum PrometheusText {
    static func render(_ truth: GroundTruth, live: Int) -> String {
        var lines = ["# TYPE pollbench_sandbox_responses_total counter"]
        for (endpoint, statuses) in truth.responses.sorted(by: { $0.key < $1.key }) {
            for (status, count) in statuses.sorted(by: { $0.key < $1.key }) {
                lines.append("pollbench_sandbox_responses_total{endpoint=\"\(endpoint)\",status=\"\(status)\"} \(count)")
            }
        }
        lines.append("# TYPE pollbench_sandbox_rate_limited_total counter")
        lines.append("pollbench_sandbox_rate_limited_total \(truth.rateLimited)")
        lines.append("# TYPE pollbench_sandbox_faults_total counter")
        for (kind, count) in truth.faults.sorted(by: { $0.key < $1.key }) {
            lines.append("pollbench_sandbox_faults_total{kind=\"\(kind)\"} \(count)")
        }
        lines.append("# TYPE pollbench_sandbox_sessions_created_total counter")
        lines.append("pollbench_sandbox_sessions_created_total \(truth.created)")
        lines.append("# TYPE pollbench_sandbox_sessions gauge")
        for (state, count) in truth.sessionsByState.sorted(by: { $0.key < $1.key }) {
            lines.append("pollbench_sandbox_sessions{state=\"\(state)\"} \(count)")
        }
        lines.append("# TYPE pollbench_sandbox_sessions_in_memory gauge")
        lines.append("pollbench_sandbox_sessions_in_memory \(live)")
        // Webhooks: every status change announced, and what became of each delivery attempt (0 until the first).
        let webhooks: [(String, String, KeyPath<WebhookTruth, Int>)] = [
            ("events", "Status changes announced by webhook", \.events), ("lost", "Announcements the loss fault swallowed", \.lost),
            ("duplicated", "Extra copies sent by the duplicate fault", \.duplicated), ("attempts", "Delivery attempts made", \.attempts),
            ("delivered", "Attempts answered with a 2xx", \.delivered), ("failed", "Attempts that failed: non-2xx, timeout, no connection", \.failed),
            ("in_outage", "Attempts that fell in an outage window", \.inOutage), ("retries", "Retries scheduled", \.retries),
            ("gave_up", "Deliveries given up after the last retry", \.gaveUp), ("bad_signatures", "Attempts signed with a wrong key", \.badSignatures),
            ("superseded", "Deliveries dropped as their session changed before they were due", \.superseded),
        ]
        for (name, help, field) in webhooks {
            let value = truth.webhooks?[keyPath: field] ?? 0
            lines.append("# HELP pollbench_sandbox_webhook_\(name)_total \(help).")
            lines.append("# TYPE pollbench_sandbox_webhook_\(name)_total counter")
            lines.append("pollbench_sandbox_webhook_\(name)_total \(value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
