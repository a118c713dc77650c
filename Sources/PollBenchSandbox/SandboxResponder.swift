import Foundation
import PollBenchCore
import PollBenchHTTPServer
import PollBenchRules

/// Adapts a server's requests to ``SandboxService`` and hands its answers, faults included, back for
/// delivery. A plain responder rather than a router: the service routes for itself, so the live server,
/// the in-process tests and the simulator share one routing table.
struct SandboxResponder: LoopbackResponder {
    let service: SandboxService
    let clock: ModelClock
    /// `http` or `https`: with the `Host` a client sent, where it reaches the service.
    let scheme: String
    /// The time scale every answer announces.
    private let timeScale: (name: String, value: String)

    init(service: SandboxService, clock: ModelClock, scheme: String) {
        self.service = service
        self.clock = clock
        self.scheme = scheme
        timeScale = (ModelClock.timeScaleHeader, NumberText.short(clock.scale))
    }

    var maxBodyBytes: Int { service.configuration.maxBodyBytes }

    func respond(to request: LoopbackRequest) -> LoopbackResponse {
        let path = request.path
        if path.hasPrefix("/admin/") { return admin(path, method: request.method) }
        guard let body = request.body else { return response(service.errorResponse(.bodyTooLarge(maxBodyBytes), instance: path, now: clock.nowMillis())) }
        let answer = service.handle(
            SandboxRequest(
                method: request.method, path: path, authorization: request.header("Authorization"), workloadKey: request.header("X-Pollbench-Key"),
                body: body, authority: request.authority, scheme: scheme
            ),
            now: clock.nowMillis()
        )
        return response(answer)
    }

    /// Ground truth for the harness: `stats` (JSON counts, and the time scale), `sessions` (JSON, with
    /// terminal times), `metrics` (Prometheus); and `health`, for a probe (a container's liveness check).
    private func admin(_ path: String, method: String) -> LoopbackResponse {
        guard method == "GET" else { return response(service.errorResponse(.methodNotAllowed(method), instance: path, now: clock.nowMillis())) }
        let now = clock.nowMillis()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        switch path {
        case "/admin/stats":
            let counts = (try? encoder.encode(service.groundTruth(now: now))).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
            let stats = counts.merging(["timeScale": clock.scale]) { $1 }
            return json((try? JSONSerialization.data(withJSONObject: stats, options: [.sortedKeys])).map(Array.init) ?? Array("{}".utf8))
        case "/admin/health":
            let health: [String: Any] = ["status": "ok", "timeScale": clock.scale, "sessionsInMemory": service.liveSessionCount()]
            return json((try? JSONSerialization.data(withJSONObject: health, options: [.sortedKeys])).map(Array.init) ?? Array("{}".utf8))
        case "/admin/sessions":
            return json((try? encoder.encode(service.sessionRecords(now: now))).map(Array.init) ?? Array("[]".utf8))
        case "/admin/metrics":
            let text = PrometheusText.render(service.groundTruth(now: now), live: service.liveSessionCount())
            return LoopbackResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4"), timeScale], body: Array(text.utf8))
        default:
            return response(service.errorResponse(.routeNotFound(path), instance: path, now: now))
        }
    }

    /// A service answer with the time scale announced, delivered as the service drew it.
    private func response(_ answer: SandboxResponse) -> LoopbackResponse {
        LoopbackResponse(status: answer.status, headers: answer.headers + [timeScale], body: answer.body, delay: answer.delay, delivery: answer.delivery)
    }

    private func json(_ bytes: [UInt8]) -> LoopbackResponse {
        LoopbackResponse(status: 200, headers: [("Content-Type", "application/json"), timeScale], body: bytes)
    }
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
