import Foundation
import PollBenchRules

/// One request before a remote run (`GET {base}/providers` with the run's credentials) that decides,
/// within seconds and before any session, whether the target can be measured at all: it is reachable,
/// it takes the credentials, and it speaks the API rather than serving a web page. What it learns lets
/// the run refuse a provider mix the target does not offer, and run its clock at the rate of a
/// pollbench sandbox's model time.
public struct TargetPreflight: Sendable {
    /// The API's base URL, without a trailing slash.
    public let baseURL: String
    public let credentials: BasicCredentials
    /// The preflight's own time limit: a target that does not answer within it is unreachable.
    public var timeout: Duration = .seconds(5)

    public init(baseURL: String, credentials: BasicCredentials) {
        self.baseURL = baseURL
        self.credentials = credentials
    }

    /// Why a target cannot be measured: one line naming what came back and what was expected.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// The request it sends.
    public var request: HTTPRequest {
        var request = HTTPRequest(method: .get, url: baseURL + "/providers", credentials: credentials, timeout: timeout)
        request.readsServiceHeaders = true
        return request
    }

    /// What the preflight learned of a target it can measure.
    public struct Findings: Sendable, Equatable {
        /// The provider ids it lists; nil when it lists none (no `/providers`, or a server error the run
        /// itself will count).
        public var providers: [String]?
        /// The time scale it announces (a pollbench sandbox: ``ModelClock/timeScaleHeader``); nil: real time.
        public var timeScale: Double?
        /// Whether it is a pollbench sandbox: it announces a time scale, 1 included. Only such a target
        /// reads `X-Pollbench-Key`; a real service is not sent it.
        public var isPollbenchSandbox = false
    }

    /// Sends the request over `transport` and judges the answer.
    public func run(on transport: any HTTPTransport) async throws(Refusal) -> Findings {
        try judge(await transport.execute(request))
    }

    /// What the answer says of the target; a ``Refusal`` when the run would measure nothing.
    public func judge(_ result: HTTPResult) throws(Refusal) -> Findings {
        let findings = try providers(result)
        guard case .success(let response) = result, let announced = response.headers.timeScale else { return findings }
        guard let scale = Double(announced), ModelClock.scaleProblem(scale) == nil else {
            throw Refusal(description: "the target announces \(ModelClock.timeScaleHeader): \(announced), not a time scale: " + String(format: "from %g to %g", ModelClock.scales.lowerBound, ModelClock.scales.upperBound))
        }
        return Findings(providers: findings.providers, timeScale: scale == 1 ? nil : scale, isPollbenchSandbox: true)
    }

    /// The provider ids the target lists, or nil when it does not list them; a ``Refusal`` when the
    /// run would measure nothing.
    private func providers(_ result: HTTPResult) throws(Refusal) -> Findings {
        let url = baseURL + "/providers"
        let response: HTTPResponse
        switch result {
        case .failure(let error):
            throw Refusal(description: "cannot reach the target: GET \(url) failed with transport:\(error.kind.rawValue) (\(error.message))")
        case .success(let answer):
            response = answer
        }
        let what = "\(response.status)" + (response.headers.contentType.map { " \($0)" } ?? "")
        switch response.status {
        case 401:
            throw Refusal(description: "the target refused the credentials: GET \(url) answered \(what)\(Self.code(response.body)); check --credentials or \(Self.credentialVariables)")
        case 403:
            throw Refusal(description: "the target refused this client: GET \(url) answered \(what)\(Self.code(response.body))")
        case 300..<400:
            throw Refusal(description: "GET \(url) answered \(what), a redirect; expected 200 application/json: is --target the API's base URL (e.g. …/api/v1)?")
        case 200..<300:
            guard let providers = Self.providerIDs(response.body) else {
                throw Refusal(description: "GET \(url) answered \(what), not the API's JSON list of providers (expected 200 application/json): is --target the API's base URL (e.g. …/api/v1)?")
            }
            return Findings(providers: providers)
        default:
            return Findings()  // 404 (no provider list served), 429, 5xx: the run measures what the API does
        }
    }

    private static let credentialVariables = "POLLBENCH_CLIENT_ID/POLLBENCH_CLIENT_SECRET"

    /// `, code 100001` from an error envelope, or `, "Invalid client credentials"` from a problem
    /// document without a code (connect-v1); empty when the body says neither.
    private static func code(_ body: [UInt8]) -> String {
        guard let code = JSONFields.errorCode(body) else { return "" }
        return code.allSatisfy(\.isNumber) ? ", code \(code)" : ", \"\(code)\""
    }

    /// The `id` of every provider in a JSON array of provider objects; nil when the body is not one.
    static func providerIDs(_ body: [UInt8]) -> [String]? {
        guard let list = try? JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]] else { return nil }
        let ids = list.compactMap { $0["id"] as? String }
        return ids.count == list.count ? ids : nil
    }
}
