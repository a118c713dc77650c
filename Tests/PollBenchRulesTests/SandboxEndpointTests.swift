import Foundation
@testable import PollBenchRules
import Testing

@Suite("Sandbox endpoints and error codes, in-process")
struct SandboxEndpointTests {
    let sandbox = SandboxHarness()

    @Test("create answers 201 with the contract's fields")
    func create() throws {
        let (status, json, response) = sandbox.call("POST", "/api/v1/verifications", body: #"{"providerId":"bankidse","redirectUri":"https://app/cb"}"#)
        #expect(status == 201)
        let id = try #require(json["verificationId"] as? String)
        #expect(id.count == 32 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(json["status"] as? String == "initiated")
        #expect(json["providerId"] as? String == "bankidse")
        #expect(json["flowType"] as? String == "qr")
        #expect(((json["flowDetails"] as? [String: Any])?["qrData"] as? String)?.hasPrefix("bankidse:///?token=") == true)
        #expect(json["createdAt"] as? String == ISO8601Millis.format(SandboxHarness.t0))
        #expect(json["expiresAt"] as? String == ISO8601Millis.format(SandboxHarness.t0 + 300_000))
        #expect(response.headers.contains { $0.name == "Content-Type" && $0.value == "application/json" })
    }

    @Test("flow details per flow type")
    func flowDetails() {
        let push = sandbox.call("POST", "/api/v1/verifications", body: #"{"providerId":"smartid"}"#).json
        let redirect = sandbox.call("POST", "/api/v1/verifications", body: #"{"providerId":"mitid"}"#).json
        #expect(push["flowType"] as? String == "push")
        #expect(((push["flowDetails"] as? [String: Any])?["displayCode"] as? String)?.count == 4)
        #expect(redirect["flowType"] as? String == "redirect")
        #expect(((redirect["flowDetails"] as? [String: Any])?["authorizationUrl"] as? String)?.contains("/authorize/") == true)
    }

    @Test("validation errors", arguments: [
        ("", 400, 200001), (#"{}"#, 400, 200001), (#"{"providerId":7}"#, 400, 200002), ("{not json", 400, 200002),
        (#"[1,2]"#, 400, 200002), (#"{"providerId":"bankidse","userData":"x"}"#, 400, 200002),
        (#"{"providerId":"nosuch"}"#, 403, 400002),
    ])
    func validation(body: String, status: Int, code: Int) {
        let (actual, json, _) = sandbox.call("POST", "/api/v1/verifications", body: body)
        #expect(actual == status)
        #expect(json["code"] as? Int == code)
        #expect(json["status"] as? Int == status)
        #expect(json["instance"] as? String == "/api/v1/verifications")
        #expect(json["timestamp"] as? String == ISO8601Millis.format(SandboxHarness.t0))
        #expect((json["title"] as? String)?.isEmpty == false)
        #expect((json["type"] as? String)?.isEmpty == false)
    }

    @Test("a provider not enabled for the client is 403 / 400002")
    func providerNotEnabled() {
        let (status, json, _) = sandbox.call("POST", "/api/v1/verifications", body: #"{"providerId":"bankidse"}"#, auth: SandboxHarness.basic(SandboxHarness.other))
        #expect(status == 403)
        #expect(json["code"] as? Int == 400002)
    }

    @Test("credentials are checked on every API route", arguments: [
        ("GET", "/api/v1/providers"), ("POST", "/api/v1/verifications"), ("GET", "/api/v1/verifications/abc"),
        ("DELETE", "/api/v1/verifications/abc"), ("GET", "/api/v1/verifications/abc/userinfo"), ("GET", "/api/v1/verifications/abc/evidence"),
    ])
    func auth(method: String, path: String) {
        let wrong = "Basic " + Data("CLIENT01:wrong".utf8).base64EncodedString()
        for header in [nil, "Bearer x", "Basic !!!", wrong] {
            let (status, json, _) = sandbox.call(method, path, auth: header)
            #expect(status == 401)
            #expect(json["code"] as? Int == 100001)
        }
    }

    @Test("unknown sessions and other clients' sessions are 404 / 300001")
    func notFound() {
        let id = sandbox.create()
        #expect(sandbox.call("GET", "/api/v1/verifications/ffffffffffffffffffffffffffffffff").json["code"] as? Int == 300001)
        let foreign = sandbox.call("GET", "/api/v1/verifications/\(id)", auth: SandboxHarness.basic(SandboxHarness.other))
        #expect(foreign.status == 404)
        #expect(foreign.json["code"] as? Int == 300001)
    }

    @Test("cancel: 204 while open, then 409 / 300003, and the status is cancelled")
    func cancel() {
        let id = sandbox.create()
        #expect(sandbox.call("DELETE", "/api/v1/verifications/\(id)", at: SandboxHarness.t0 + 10).status == 204)
        let again = sandbox.call("DELETE", "/api/v1/verifications/\(id)", at: SandboxHarness.t0 + 20)
        #expect(again.status == 409)
        #expect(again.json["code"] as? Int == 300003)
        #expect(sandbox.call("GET", "/api/v1/verifications/\(id)", at: SandboxHarness.t0 + 30).json["status"] as? String == "cancelled")
        #expect(sandbox.record(id, at: SandboxHarness.t0 + 30)?.terminalAt == SandboxHarness.t0 + 10)
    }

    @Test("userinfo and evidence: 400 verification_not_completed before, the documents after")
    func userinfoAndEvidence() throws {
        let completedKey = try #require((0..<200).map { "k\($0)" }.first { key in
            UserPlan(seed: 1, key: key, behaviour: Provider.catalogue[0].behaviour).outcome == .completed
        })
        let id = sandbox.create(key: completedKey)
        let early = sandbox.call("GET", "/api/v1/verifications/\(id)/userinfo")
        #expect(early.status == 400)
        #expect(early.json["code"] as? String == "verification_not_completed")
        #expect(sandbox.call("GET", "/api/v1/verifications/\(id)/evidence").status == 400)

        let done = try #require(sandbox.record(id, at: SandboxHarness.t0 + 299_999)?.terminalAt)
        let status = sandbox.call("GET", "/api/v1/verifications/\(id)", at: done).json
        #expect(status["status"] as? String == "completed")
        #expect(status["verifiedAt"] as? String == ISO8601Millis.format(done))
        let attributes = try #require(status["verifiedAttributes"] as? [String: Any])
        for key in ["sub", "name", "given_name", "family_name", "birthdate", "email", "eid", "provider_id"] {
            #expect(attributes[key] is String, "verifiedAttributes.\(key)")
        }

        let userinfo = sandbox.call("GET", "/api/v1/verifications/\(id)/userinfo", at: done)
        #expect(userinfo.status == 200)
        let presentation = try #require((userinfo.json["provenance"] as? [String: Any])?["presentation"] as? [String: Any])
        let credential = try #require((presentation["credentials"] as? [[String: Any]])?.first)
        let evidence = try #require(credential["evidence"] as? [String: Any])
        let token = try #require(evidence["token"] as? [String: Any])
        #expect((evidence["names"] as? String)?.split(separator: ";").map(String.init).sorted() == token.keys.sorted())
        #expect(credential["type"] as? String == "bankidse")
        #expect((userinfo.json["_metadata"] as? [String: Any])?["verified_at"] as? String == ISO8601Millis.format(done))

        let evidenceDocument = sandbox.call("GET", "/api/v1/verifications/\(id)/evidence", at: done).json
        #expect(evidenceDocument["names"] as? String == "personalNumber;signature;ocspResponse")
    }

    @Test("providers lists every provider with its flow type")
    func providers() throws {
        let response = sandbox.service.handle(SandboxRequest(method: "GET", path: "/api/v1/providers", authorization: SandboxHarness.basic(SandboxHarness.client)), now: SandboxHarness.t0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
        #expect(list.map { $0["id"] as? String } == ["bankidse", "frejaid", "smartid", "evrotrust", "mitid"])
        #expect(list.allSatisfy { $0["isActive"] as? Bool == true && ($0["flowTypes"] as? [String])?.count == 1 })
    }

    @Test("unknown routes are 404 and wrong methods 405 with Allow, both with the envelope")
    func routing() {
        let missing = sandbox.call("GET", "/api/v2/nothing")
        #expect(missing.status == 404)
        #expect(missing.json["title"] as? String == "ROUTE.NOT_FOUND")
        let wrong = sandbox.call("PUT", "/api/v1/verifications")
        #expect(wrong.status == 405)
        #expect(wrong.response.headers.contains { $0.name == "Allow" && $0.value == "POST" })
        #expect(wrong.json["status"] as? Int == 405)
    }

    @Test("a body over the limit is 413 with the envelope")
    func bodyLimit() {
        let big = #"{"providerId":"bankidse","pad":""# + String(repeating: "x", count: 70_000) + #""}"#
        let response = sandbox.call("POST", "/api/v1/verifications", body: big)
        #expect(response.status == 413)
        #expect(response.json["code"] as? Int == 200002)
    }

    @Test("connect-v1: its own base path, the wait spelt awaiting_user_action then authenticating, RFC 7807 problems without a code")
    func connectV1() throws {
        let sandbox = SandboxHarness { $0.api = .connectV1 }
        #expect(sandbox.call("POST", "/api/v1/verifications", body: #"{"providerId":"bankidse"}"#).status == 404)
        let before = SandboxHarness.t0 + 200_000  // every session's fate is known by then, and none has expired
        var found: (id: String, pending: Int64, end: Int64)?
        for n in 0..<20 where found == nil {
            let created = sandbox.call("POST", "/connect/v1/verifications", body: #"{"providerId":"bankidse"}"#, key: "k\(n)")
            #expect(created.status == 201 && created.json["status"] as? String == "initiated")
            let id = created.json["verificationId"] as? String ?? ""
            if let r = sandbox.record(id, at: before), r.status == "completed", let pending = r.pendingAt, let end = r.terminalAt { found = (id, pending, end) }
        }
        let (id, pending, end) = try #require(found)
        func status(at now: Int64) -> String? { sandbox.call("GET", "/connect/v1/verifications/\(id)", at: now).json["status"] as? String }
        #expect(status(at: pending - 1) == "initiated")
        #expect(status(at: pending) == "awaiting_user_action")
        #expect(status(at: pending + (end - pending) / 2) == "authenticating")
        #expect(status(at: end) == "completed")
        let problem = sandbox.call("GET", "/connect/v1/verifications/0123")
        #expect(problem.status == 404 && problem.json["title"] as? String == "Verification not found" && problem.json["code"] == nil)
        #expect(problem.response.headers.contains { $0.name == "Content-Type" && $0.value == "application/problem+json" })
        #expect(VerificationStatus(wireText: "authenticating") == .pending && VerificationStatus(wireText: "completed") == .completed)
    }
}
