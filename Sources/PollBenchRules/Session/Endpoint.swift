/// The requests a session makes.
public enum Endpoint: String, Sendable, CaseIterable, Codable {
    case create, status, authorize, userinfo, evidence
}
