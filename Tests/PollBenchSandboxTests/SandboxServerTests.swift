import Foundation
import PollBenchCore
import PollBenchCurl
import PollBenchRules
@testable import PollBenchSandbox
import Testing

@Suite("Sandbox server over a real socket")
struct SandboxServerTests {
    static let client = SandboxConfiguration.Client(id: "LIVE0001", secret: String(repeating: "0f", count: 32))

    static func start(_ adjust: (inout SandboxConfiguration) -> Void = { _ in }) async throws -> SandboxServer {
        var configuration = SandboxConfiguration()
        configuration.clients = [client]
        configuration.timeScale = 100
        adjust(&configuration)
        return try await SandboxServer.start(configuration: configuration)
    }

    static func request(_ method: HTTPMethod, _ url: String, body: String? = nil, key: String? = nil) -> HTTPRequest {
        HTTPRequest(
            method: method, url: url, headers: key.map { [HTTPHeader("X-Pollbench-Key", $0)] } ?? [],
            body: body.map { Array($0.utf8) }, credentials: BasicCredentials(clientID: client.id, clientSecret: client.secret),
            timeout: .seconds(60)  // generous: the in-process server shares two cores with CPU-heavy tests running in parallel
        )
    }

    static func json(_ response: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    @Test("create, poll to a terminal status, read results, and the ground truth agrees")
    func lifecycle() async throws {
        let server = try await Self.start()
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 4))
        defer { transport.shutdown() }

        let created = try await transport.execute(Self.request(.post, server.baseURL + "/verifications", body: #"{"providerId":"smartid"}"#)).get()
        #expect(created.status == 201)
        let id = try #require(Self.json(created)["verificationId"] as? String)

        var polls = 0
        var status = "initiated"
        while !["completed", "failed", "cancelled", "expired"].contains(status), polls < 400 {
            try await Task.sleep(for: .milliseconds(20))
            let response = try await transport.execute(Self.request(.get, server.baseURL + "/verifications/\(id)")).get()
            status = Self.json(response)["status"] as? String ?? "?"
            polls += 1
        }
        #expect(["completed", "failed", "cancelled", "expired"].contains(status))
        let userinfo = try await transport.execute(Self.request(.get, server.baseURL + "/verifications/\(id)/userinfo")).get()
        #expect(userinfo.status == (status == "completed" ? 200 : 400))

        let truth = server.service.groundTruth(now: server.clock.nowMillis())
        #expect(truth.responses["create"]?["201"] == 1)
        #expect(truth.total(.status) == polls)
        #expect(truth.sessionsByState[status] == 1)
        await server.stop()
    }

    @Test("bound to every interface (as in a container), it answers at another loopback address and sends a redirect flow's browser to the address the client used")
    func everyInterface() async throws {
        var configuration = SandboxConfiguration()
        configuration.clients = [Self.client]
        let server = try await SandboxServer.start(configuration: configuration, host: "0.0.0.0")
        #expect(server.baseURL.hasPrefix("http://127.0.0.1:"))
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 2))
        defer { transport.shutdown() }
        let elsewhere = "http://127.0.0.2:\(server.port)/api/v1"
        let created = try await transport.execute(Self.request(.post, elsewhere + "/verifications", body: #"{"providerId":"mitid","redirectUri":"https://x.invalid/r"}"#)).get()
        #expect(created.status == 201)
        let page = (Self.json(created)["flowDetails"] as? [String: Any])?["authorizationUrl"] as? String
        #expect(page?.hasPrefix("http://127.0.0.2:\(server.port)/authorize/") == true, "\(page ?? "none")")
        await server.stop()
    }

    @Test("errors come back with the envelope over HTTP: 401, 404, 405, 413")
    func errors() async throws {
        let server = try await Self.start()
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 2))
        defer { transport.shutdown() }
        var anonymous = Self.request(.get, server.baseURL + "/providers")
        anonymous.credentials = nil

        let unauthorized = try await transport.execute(anonymous).get()
        let unknown = try await transport.execute(Self.request(.get, "http://127.0.0.1:\(server.port)/nowhere")).get()
        let wrongMethod = try await transport.execute(Self.request(.delete, server.baseURL + "/providers")).get()
        let tooLarge = try await transport.execute(Self.request(.post, server.baseURL + "/verifications", body: String(repeating: " ", count: 100_000))).get()

        #expect(unauthorized.status == 401)
        #expect(Self.json(unauthorized)["code"] as? Int == 100001)
        #expect(unknown.status == 404)
        #expect(Self.json(unknown)["title"] as? String == "ROUTE.NOT_FOUND")
        #expect(wrongMethod.status == 405)
        #expect(tooLarge.status == 413)
        await server.stop()
    }

    @Test("429 carries Retry-After over HTTP")
    func rateLimit() async throws {
        let server = try await Self.start {
            $0.clients[0].rateLimit = .init(rate: 0.01, burst: 1)
            $0.timeScale = 1  // one token per 100 wall seconds, however slowly a loaded machine runs the test
        }
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 1))
        defer { transport.shutdown() }

        _ = try await transport.execute(Self.request(.get, server.baseURL + "/providers")).get()
        let limited = try await transport.execute(Self.request(.get, server.baseURL + "/providers")).get()

        #expect(limited.status == 429)
        #expect(limited.headers.retryAfter.flatMap(RetryAfter.init(headerValue:)).map { if case .seconds(let s) = $0 { s > 0 } else { false } } == true)
        await server.stop()
    }

    @Test("delivery faults reach the client: a closed connection and a slow drip")
    func deliveryFaults() async throws {
        let closing = try await Self.start { $0.faults.closeRate = 1 }
        let dripping = try await Self.start { $0.faults.dripRate = 1; $0.faults.dripMillis = 300 }
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 2))
        defer { transport.shutdown() }

        let closed = await transport.execute(Self.request(.get, closing.baseURL + "/providers"))
        let started = ContinuousClock.now
        let dripped = try await transport.execute(Self.request(.get, dripping.baseURL + "/providers")).get()

        if case .failure(let error) = closed {
            #expect([.truncated, .connectionReset].contains(error.kind))
        } else {
            Issue.record("a closed connection should fail, got \(closed)")
        }
        #expect(dripped.status == 200)
        #expect(ContinuousClock.now - started >= .milliseconds(250))
        #expect((try? JSONSerialization.jsonObject(with: Data(dripped.body))) is [Any])
        await closing.stop()
        await dripping.stop()
    }

    @Test("admin ground truth: stats JSON and Prometheus metrics")
    func admin() async throws {
        let server = try await Self.start()
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 2))
        defer { transport.shutdown() }
        _ = try await transport.execute(Self.request(.post, server.baseURL + "/verifications", body: #"{"providerId":"bankidse"}"#)).get()

        let stats = try await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(server.port)/admin/stats")).get()
        let metrics = try await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(server.port)/admin/metrics")).get()
        let sessions = try await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(server.port)/admin/sessions")).get()

        #expect(Self.json(stats)["created"] as? Int == 1)
        #expect(String(decoding: metrics.body, as: UTF8.self).contains(#"pollbench_sandbox_responses_total{endpoint="create",status="201"} 1"#))
        #expect(((try? JSONSerialization.jsonObject(with: Data(sessions.body))) as? [[String: Any]])?.count == 1)
        let health = try await transport.execute(HTTPRequest(url: "http://127.0.0.1:\(server.port)/admin/health")).get()
        #expect(health.status == 200 && Self.json(health)["status"] as? String == "ok" && Self.json(health)["sessionsInMemory"] as? Int == 1)
        await server.stop()
    }

    @Test("a port already in use is a clear error")
    func portInUse() async throws {
        let first = try await Self.start()
        var configuration = SandboxConfiguration()
        configuration.clients = [Self.client]
        await #expect(throws: SandboxServerError.self) {
            _ = try await SandboxServer.start(configuration: configuration, port: first.port)
        }
        await first.stop()
    }
}
