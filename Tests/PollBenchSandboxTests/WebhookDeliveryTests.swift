import Foundation
import PollBenchCore
import PollBenchCurl
import PollBenchReceiver
import PollBenchRules
@testable import PollBenchSandbox
import Testing

/// The sandbox's webhooks and pollbench's receiver over real sockets.
@Suite("Webhooks over HTTP: the sandbox sends, the receiver checks")
struct WebhookDeliveryTests {
    static let secret = "whsec_live_test"

    /// A receiver on an ephemeral loopback port, routing round 0's `sessions` sessions on one worker to `inbox`.
    static func receiver(clock: ModelClock, inbox: WebhookInbox, sessions: Int = 4) async throws -> WebhookReceiverServer {
        let server = try await WebhookReceiverServer.start(receiver: WebhookReceiver(secrets: [secret], maxBodyBytes: 8_192), host: "127.0.0.1", port: 0, clock: clock)
        server.open(round: 0, inboxes: [(inbox, sessions)])
        return server
    }

    /// Waits for `condition`, counting turns rather than timing anything; false if it never holds.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<3_000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        return condition()
    }

    @Test("a session created with a webhookUrl gets a signed delivery of its end; the receiver takes it and hands it to its session's inbox")
    func delivered() async throws {
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 4))
        defer { transport.shutdown() }
        var configuration = SandboxConfiguration()
        configuration.clients = [.init(id: "HOOK0001", secret: "client-secret", webhookSecret: Self.secret)]
        configuration.timeScale = 20  // 300 s of signature tolerance is 15 s of wall time: room for a loaded machine
        let sandbox = try await SandboxServer.start(configuration: configuration, webhookTransport: transport)
        let inbox = WebhookInbox()
        let receiver = try await Self.receiver(clock: sandbox.clock, inbox: inbox)
        let hook = "http://127.0.0.1:\(receiver.port)/webhooks/0/0/2"
        let create = HTTPRequest(
            method: .post, url: sandbox.baseURL + "/verifications", headers: [HTTPHeader("X-Pollbench-Key", "hook-1")],
            body: Array(#"{"providerId":"smartid","webhookUrl":"\#(hook)"}"#.utf8), credentials: BasicCredentials(clientID: "HOOK0001", clientSecret: "client-secret"),
            timeout: .seconds(60)
        )
        let created = try await transport.execute(create).get()
        #expect(created.status == 201)
        let id = try #require(JSONFields.strings(created.body)?["verificationId"])
        var received: [WebhookDelivery] = []
        #expect(try await Self.eventually { received += inbox.drain(); return !received.isEmpty })
        let delivery = try #require(received.first)
        #expect(delivery.route == WebhookRoute(round: 0, worker: 0, session: 2) && delivery.receipt == .accepted)
        #expect(delivery.message?.verificationID == id && delivery.message?.status.isTerminal == true && delivery.message?.attempt == 1)
        sandbox.stopWebhooks()
        #expect(sandbox.service.groundTruth(now: sandbox.clock.nowMillis()).webhooks?.delivered == 1)
        #expect(receiver.receiver.counts.received == 1)
        // The sandbox's Prometheus metrics count its webhooks too.
        let metrics = String(decoding: try await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(sandbox.port)/admin/metrics")).get().body, as: UTF8.self)
        #expect(metrics.contains("\npollbench_sandbox_webhook_delivered_total 1\n") && metrics.contains("\npollbench_sandbox_webhook_attempts_total 1\n"))
        await receiver.stop()
        await sandbox.stop()
    }

    @Test("a hostile sender's forged, stale, replayed and oversized deliveries are refused over HTTP, and the receiver keeps taking good ones")
    func hostileSender() async throws {
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 4))
        defer { transport.shutdown() }
        let clock = ModelClock(startMillis: 1_795_000_000_000, scale: 1)
        let inbox = WebhookInbox()
        let server = try await Self.receiver(clock: clock, inbox: inbox)
        func post(_ body: [UInt8], signature: String?, session: Int = 1) async throws -> Int {
            let headers = [HTTPHeader("Content-Type", "application/json")] + (signature.map { [HTTPHeader(WebhookSignature.header, $0)] } ?? [])
            let request = HTTPRequest(method: .post, url: "http://127.0.0.1:\(server.port)/webhooks/0/0/\(session)", headers: headers, body: body, timeout: .seconds(60))
            return try await transport.execute(request).get().status
        }
        func body(_ id: String) -> [UInt8] {
            WebhookMessage(eventID: id, deliveryID: id + ".0.1", attempt: 1, verificationID: "v1", status: .completed, occurredMillis: clock.nowMillis())
                .encode(statusDocument: Array(#"{"verificationId":"v1","status":"completed"}"#.utf8))
        }
        let now = clock.nowMillis() / 1_000
        let good = body("evt_good"), signature = WebhookSignature.sign(body: good, timestamp: now, secret: Self.secret)
        #expect(try await post(good, signature: signature) == 200)
        #expect(try await post(good, signature: signature) == 409)  // replayed
        #expect(try await post(good, signature: WebhookSignature.sign(body: good, timestamp: now, secret: "guess")) == 400)  // forged
        #expect(try await post(good, signature: nil) == 400)  // unsigned
        // One body, signed as it is sent: two calls of body() a millisecond apart stamp different times.
        let old = body("evt_old")
        #expect(try await post(old, signature: WebhookSignature.sign(body: old, timestamp: now - 301, secret: Self.secret)) == 400)  // stale
        #expect(try await post(Array(repeating: 0x20, count: 20_000), signature: signature) == 413)
        let later = body("evt_later")
        #expect(try await post(later, signature: WebhookSignature.sign(body: later, timestamp: now, secret: Self.secret), session: 3) == 200)
        let counts = server.receiver.counts
        #expect(counts.received == 7 && counts.receipts["accepted"] == 2 && counts.receipts["bad-signature"] == 2)
        #expect(counts.receipts["replayed"] == 1 && counts.receipts["stale"] == 1 && counts.receipts["too-large"] == 1)
        // Only routable verdicts reach the inbox: every one here names a session of round 0.
        #expect(inbox.drain().map(\.receipt) == [.accepted, .replayed, .badSignature, .badSignature, .stale, .tooLarge, .accepted])
        await server.stop()
    }
}
