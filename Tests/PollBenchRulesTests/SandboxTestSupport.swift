import Foundation
@testable import PollBenchRules

/// A sandbox service driven with explicit model times, and JSON helpers.
struct SandboxHarness {
    static let t0: Int64 = 1_795_000_000_000
    static let client = SandboxConfiguration.Client(id: "CLIENT01", secret: String(repeating: "ab", count: 32))
    static let other = SandboxConfiguration.Client(id: "CLIENT02", secret: String(repeating: "cd", count: 32), enabledProviders: ["smartid"])

    let service: SandboxService

    init(_ adjust: (inout SandboxConfiguration) -> Void = { _ in }) {
        var configuration = SandboxConfiguration()
        configuration.clients = [Self.client, Self.other]
        adjust(&configuration)
        service = SandboxService(configuration: configuration, startMillis: Self.t0)
    }

    static func basic(_ client: SandboxConfiguration.Client) -> String {
        "Basic " + Data("\(client.id):\(client.secret)".utf8).base64EncodedString()
    }

    @discardableResult
    func call(
        _ method: String, _ path: String, body: String? = nil, auth: String? = basic(client), key: String? = nil, at now: Int64 = t0
    ) -> (status: Int, json: [String: Any], response: SandboxResponse) {
        let response = service.handle(
            SandboxRequest(method: method, path: path, authorization: auth, workloadKey: key, body: Array((body ?? "").utf8)), now: now
        )
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, json, response)
    }

    /// Creates a session and returns its id.
    func create(_ provider: String = "bankidse", key: String? = nil, at now: Int64 = t0) -> String {
        call("POST", "/api/v1/verifications", body: #"{"providerId":"\#(provider)"}"#, key: key, at: now).json["verificationId"] as? String ?? ""
    }

    func record(_ id: String, at now: Int64) -> SessionRecord? {
        service.sessionRecords(now: now).first { $0.verificationId == id }
    }
}
