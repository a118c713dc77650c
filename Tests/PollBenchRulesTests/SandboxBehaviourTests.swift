import Foundation
@testable import PollBenchRules
import Testing

@Suite("Sandbox lifecycle, limits, determinism and faults")
struct SandboxBehaviourTests {
    @Test("a key's fault stream continues while the key is used, starts afresh once idle past the sessions' time to live and grace, and is then no longer held")
    func faultStreamsForgotten() {
        let harness = SandboxHarness { $0.faults.serverErrorRate = 0.5 }
        let t0 = SandboxHarness.t0, idle = harness.service.rules.faultStreamIdleMillis
        #expect(idle == 420_000)  // 5 min to live and 2 min of grace
        func statuses(_ key: String, from start: Int64) -> [Int] {
            (0..<16).map { harness.call("GET", "/api/v1/providers", key: key, at: start + Int64($0) * 1_000).status }
        }
        let first = statuses("k", from: t0)
        let continued = statuses("k", from: t0 + 60_000)
        let afresh = statuses("k", from: t0 + 75_000 + idle + 1)
        #expect(first.contains(200) && first.contains { $0 >= 500 })  // faults were drawn
        #expect(first == afresh && first != continued)
        // A thousand users come and go: once they are idle that long, only the newest key is held.
        let later = t0 + 2 * idle
        for user in 0..<1_000 { harness.call("GET", "/api/v1/providers", key: "u\(user)", at: later) }
        #expect(harness.service.heldFaultStreamCount() >= 1_000)
        harness.call("GET", "/api/v1/providers", key: "late", at: later + idle + 1)
        #expect(harness.service.heldFaultStreamCount() == 1)
    }

    @Test("status changes exactly at the planned instants (mock clock)")
    func lifecycle() throws {
        let sandbox = SandboxHarness()
        let t0 = SandboxHarness.t0
        let id = sandbox.create(at: t0)
        let session = try #require(sandbox.record(id, at: t0 + 600_000))
        let pendingAt = try #require(session.pendingAt)
        let terminalAt = try #require(session.terminalAt)
        func status(_ at: Int64) -> String? { sandbox.call("GET", "/api/v1/verifications/\(id)", at: at).json["status"] as? String }
        #expect(status(t0) == "initiated")
        #expect(status(pendingAt - 1) == "initiated")
        #expect(status(pendingAt) == "pending")
        #expect(status(terminalAt - 1) == "pending")
        #expect(status(terminalAt) == session.status)
        #expect(terminalAt <= t0 + 300_000)
    }

    @Test("abandoned sessions expire at expiresAt, and the time scale does not enter the lifecycle")
    func expiry() throws {
        let sandbox = SandboxHarness { $0.ttlSeconds = 60 }
        let behaviour = Provider.catalogue[0].behaviour
        let key = try #require((0..<500).map { "a\($0)" }.first { UserPlan(seed: 1, key: $0, behaviour: behaviour).outcome == .abandoned })
        let id = sandbox.create(key: key)
        let t0 = SandboxHarness.t0
        #expect(sandbox.call("GET", "/api/v1/verifications/\(id)", at: t0 + 59_999).json["status"] as? String == "pending")
        #expect(sandbox.call("GET", "/api/v1/verifications/\(id)", at: t0 + 60_000).json["status"] as? String == "expired")
        #expect(sandbox.record(id, at: t0 + 60_000)?.terminalAt == t0 + 60_000)
    }

    @Test("a redirect session starts when the browser opens the authorization page")
    func redirect() throws {
        let sandbox = SandboxHarness()
        let id = sandbox.create("mitid")
        let t0 = SandboxHarness.t0
        #expect(sandbox.call("GET", "/api/v1/verifications/\(id)", at: t0 + 100_000).json["status"] as? String == "initiated")
        let opened = sandbox.call("GET", "/authorize/\(id)", auth: nil, at: t0 + 1_000)
        #expect(opened.status == 200)
        #expect(sandbox.record(id, at: t0 + 299_000)?.pendingAt.map { $0 >= t0 + 1_000 } == true)
        #expect(sandbox.call("GET", "/authorize/ffff", auth: nil).status == 404)
    }

    @Test("token bucket: N requests at rate r over T allow exactly burst + floor(r T)", arguments: [
        (10.0, 5, 1, 2_000), (10.0, 1, 1, 1_000), (2.5, 3, 10, 4_000), (100.0, 20, 1, 500),
    ])
    func tokenBucket(rate: Double, burst: Int, spacingMillis: Int64, count: Int) {
        var bucket = TokenBucket(TokenBucket.Limit(rate: rate, burst: burst), now: 0)
        var allowed = 0
        for i in 0..<Int64(count) where bucket.take(at: i * spacingMillis) == nil { allowed += 1 }
        let span = Double(Int64(count - 1) * spacingMillis) / 1_000
        #expect(allowed == burst + Int((rate * span).rounded(.down)))
    }

    @Test("an empty bucket says how long until the next token")
    func tokenWait() {
        var bucket = TokenBucket(TokenBucket.Limit(rate: 4, burst: 1), now: 0)
        #expect(bucket.take(at: 0) == nil)
        #expect(bucket.take(at: 0) == 250)
        #expect(bucket.take(at: 100) == 150)
        #expect(bucket.take(at: 250) == nil)
    }

    @Test("over budget: 429 with Retry-After and the envelope, per client and per endpoint")
    func rateLimited() {
        let sandbox = SandboxHarness {
            $0.clients[0].rateLimit = TokenBucket.Limit(rate: 1, burst: 2)
            $0.clients[1].endpointLimits = ["providers": TokenBucket.Limit(rate: 0.5, burst: 1)]
        }
        let statuses = (0..<3).map { _ in sandbox.call("GET", "/api/v1/providers").status }
        #expect(statuses == [200, 200, 429])
        let limited = sandbox.call("GET", "/api/v1/providers")
        #expect(limited.response.headers.contains { $0.name == "Retry-After" && $0.value == "1" })
        #expect(limited.json["title"] as? String == "RATE_LIMIT.EXCEEDED")
        #expect(limited.json["code"] is NSNull)
        #expect(sandbox.call("GET", "/api/v1/providers", at: SandboxHarness.t0 + 1_000).status == 200)

        let other = SandboxHarness.basic(SandboxHarness.other)
        #expect(sandbox.call("GET", "/api/v1/providers", auth: other).status == 200)
        let second = sandbox.call("GET", "/api/v1/providers", auth: other)
        #expect(second.status == 429)
        #expect(second.response.headers.contains { $0.name == "Retry-After" && $0.value == "2" })
        #expect(sandbox.call("GET", "/api/v1/verifications/abc", auth: other).status == 404)  // other endpoints unaffected
        #expect(sandbox.service.groundTruth(now: SandboxHarness.t0).rateLimited == 3)
    }

    @Test("same seed and keys give the same users in any arrival order; another seed does not")
    func determinism() {
        let keys = (0..<40).map { "session-\($0)" }
        func plans(seed: UInt64, order: [String]) -> [String: [Int64?]] {
            let sandbox = SandboxHarness { $0.seed = seed }
            var byKey: [String: [Int64?]] = [:]
            for (i, key) in order.enumerated() {
                let at = SandboxHarness.t0 + Int64(i) * 37
                let id = sandbox.create(["bankidse", "smartid"][key.count % 2], key: key, at: at)
                let record = sandbox.record(id, at: at + 400_000)
                byKey[key] = [record?.pendingAt.map { $0 - at }, record?.terminalAt.map { $0 - at }, Int64(record?.status.count ?? 0)]
            }
            return byKey
        }
        let forward = plans(seed: 42, order: keys)
        #expect(forward == plans(seed: 42, order: keys.reversed()))
        var shuffler = SplitMix64(seed: 7)
        #expect(forward == plans(seed: 42, order: keys.shuffled(using: &shuffler)))
        #expect(forward != plans(seed: 43, order: keys))
    }

    @Test("each fault kind is injected and counted", arguments: FaultKind.allCases)
    func faults(kind: FaultKind) throws {
        let sandbox = SandboxHarness { configuration in
            switch kind {
            case .serverError: configuration.faults.serverErrorRate = 1
            case .close: configuration.faults.closeRate = 1
            case .malformed: configuration.faults.malformedRate = 1
            case .drip: configuration.faults.dripRate = 1
            case .latency: configuration.faults.latency = .init(rate: 1, millis: LogNormal(median: 50, p95: 100))
            case .outage: configuration.faults.outages = [.init(provider: "bankidse", fromSeconds: 10, toSeconds: 20)]
            }
        }
        let t0 = SandboxHarness.t0
        let response = sandbox.call("POST", "/api/v1/verifications", body: #"{"providerId":"bankidse"}"#, at: t0 + 15_000)
        switch kind {
        case .serverError: #expect([500, 502, 503].contains(response.status))
        case .close: #expect(response.response.delivery == .closeMidResponse)
        case .malformed: #expect((try? JSONSerialization.jsonObject(with: Data(response.response.body))) == nil)
        case .drip: #expect(response.response.delivery == .drip(millis: 500))
        case .latency: #expect(response.response.delay > .zero)
        case .outage:
            #expect(response.status == 503)
            #expect(response.json["code"] as? Int == 400005)
            #expect(sandbox.call("POST", "/api/v1/verifications", body: #"{"providerId":"bankidse"}"#, at: t0 + 20_000).status == 201)
            #expect(sandbox.call("POST", "/api/v1/verifications", body: #"{"providerId":"smartid"}"#, at: t0 + 15_000).status == 201)
        }
        #expect(sandbox.service.groundTruth(now: t0).faults[kind.rawValue] == 1)
    }

    @Test("sessions are evicted after expiry plus grace, so memory stays bounded")
    func eviction() {
        let sandbox = SandboxHarness { $0.ttlSeconds = 10; $0.graceSeconds = 5 }
        for i in 0..<5_000 {
            _ = sandbox.create("smartid", at: SandboxHarness.t0 + Int64(i) * 10)  // one create every 10 ms for 50 s
        }
        // At most (ttl + grace) / 10 ms = 1,500 sessions are alive at once.
        #expect(sandbox.service.liveSessionCount() <= 1_501)
        let truth = sandbox.service.groundTruth(now: SandboxHarness.t0 + 50_000)
        #expect(truth.created == 5_000)
        #expect(truth.sessionsByState.values.reduce(0, +) == 5_000)
        #expect(truth.evicted.values.reduce(0, +) >= 3_400)
    }

    @Test("configuration problems are named")
    func configurationProblems() {
        var configuration = SandboxConfiguration()
        #expect(configuration.problem() == "no client credentials configured")
        configuration.clients = [SandboxHarness.client]
        #expect(configuration.problem() == nil)
        configuration.clients[0].endpointLimits = ["polls": .init(rate: 1, burst: 1)]
        #expect(configuration.problem()?.contains("unknown endpoint 'polls'") == true)
        configuration.clients[0].endpointLimits = [:]
        configuration.faults.closeRate = 2
        #expect(configuration.problem() == "fault rates must be between 0 and 1")
    }
}
