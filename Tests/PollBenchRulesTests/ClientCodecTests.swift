import Foundation
@testable import PollBenchRules
import Testing

/// The client's side of the API against the sandbox's own documents: what one writes, the other reads.
@Suite("The client codec reads the sandbox's documents")
struct ClientCodecTests {
    let codec = ClientCodec(baseURL: "http://127.0.0.1:8080/api/v1", redirectURI: "https://app.example/back")

    /// The sandbox's answer to `request`, as the codec takes it.
    func answer(_ harness: SandboxHarness, _ request: ClientCodec.Request, at now: Int64) -> ClientCodec.Answer {
        let path = String(request.url.dropFirst("http://127.0.0.1:8080".count))
        let response = harness.call(request.post ? "POST" : "GET", path, body: request.body.map { String(decoding: $0, as: UTF8.self) }, at: now).response
        let retryAfter = response.headers.first { $0.0 == "Retry-After" }.flatMap { Int64($0.1) }.map { $0 * 1_000 }
        return ClientCodec.Answer(
            status: response.status, fields: ClientCodec.documentFields(status: response.status, body: response.body), body: response.body, retryAfterMillis: retryAfter
        )
    }

    @Test("a redirect create: its id, the authorization page, createdAt; the status then reads open until the user's outcome, with its service time")
    func createThenPoll() throws {
        let harness = SandboxHarness()
        let create = codec.request(.create, providerID: "mitid", verificationID: nil, authorizationURL: nil, webhookURL: "http://127.0.0.1:9/hook/1")
        let written = try #require(create.body)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(written)) as? [String: String])
        #expect(create.post && create.authenticated && body == ["providerId": "mitid", "redirectUri": "https://app.example/back", "webhookUrl": "http://127.0.0.1:9/hook/1"])
        let (event, created) = ClientCodec.createAnswered(answer(harness, create, at: SandboxHarness.t0), sentMicros: 7)
        let session = try #require(created)
        #expect(event == .createAnswered(.created(serviceCreatedMillis: SandboxHarness.t0, redirect: true), sentMicros: 7))
        #expect(session.verificationID.count == 32 && session.authorizationURL?.hasSuffix("/authorize/\(session.verificationID)") == true)

        let status = codec.request(.status, providerID: "mitid", verificationID: session.verificationID, authorizationURL: nil, webhookURL: nil)
        #expect(!status.post && status.authenticated && status.url == "http://127.0.0.1:8080/api/v1/verifications/\(session.verificationID)")
        #expect(ClientCodec.statusAnswered(answer(harness, status, at: SandboxHarness.t0 + 1_000)) == (.open, nil))
        let expiry = SandboxHarness.t0 + 300_001  // never opened, a redirect session expires at its time to live
        #expect(ClientCodec.statusAnswered(answer(harness, status, at: expiry)) == (.terminal(.expired, serviceMillis: SandboxHarness.t0 + 300_000), nil))
        let page = codec.request(.authorize, providerID: "mitid", verificationID: session.verificationID, authorizationURL: session.authorizationURL, webhookURL: nil)
        #expect(!page.authenticated && page.url == session.authorizationURL)
    }

    @Test("errors: a 404 is not found, a 429 waits its Retry-After, no response fails, an unknown open status is named, a 201 without an id is a rejection")
    func errors() {
        #expect(ClientCodec.statusAnswered(.init(status: 404, fields: nil, body: [], retryAfterMillis: nil)) == (.notFound, nil))
        #expect(ClientCodec.statusAnswered(.init(status: 429, fields: nil, body: [], retryAfterMillis: 2_000)) == (.retryAfter(millis: 2_000), nil))
        #expect(ClientCodec.statusAnswered(.init(status: nil, fields: nil, body: [], retryAfterMillis: nil)) == (.failed, nil))
        #expect(ClientCodec.statusAnswered(.init(status: 200, fields: JSONFields.document(Array(#"{"status":"queued"}"#.utf8)), body: [], retryAfterMillis: nil)) == (.open, "queued"))
        #expect(ClientCodec.statusAnswered(.init(status: 200, fields: JSONFields.document(Array(#"{"status":"awaiting_user_action"}"#.utf8)), body: [], retryAfterMillis: nil)) == (.open, nil))
        let rejected = ClientCodec.createAnswered(.init(status: 201, fields: JSONFields.document(Array("{}".utf8)), body: [], retryAfterMillis: nil), sentMicros: 1)
        #expect(rejected.event == .createAnswered(.rejected(status: 201, retryAfterMillis: nil), sentMicros: 1) && rejected.created == nil)
    }
}
