/// How the user is asked to prove who they are.
public enum FlowType: String, Sendable, Codable, CaseIterable {
    /// The user scans a QR code with the provider's app.
    case qr
    /// The provider's app gets a push notification.
    case push
    /// The user's browser is sent to the provider and comes back to `redirectUri`.
    case redirect
}

/// How a provider's users behave, in model seconds: how long until the first action (scan, push
/// opened, page loaded), how long from there to the end, and how it ends.
public struct UserBehaviour: Sendable, Codable, Equatable {
    /// From creation to the session becoming `pending`.
    public var firstAction: LogNormal
    /// From `pending` to the outcome.
    public var completion: LogNormal
    /// Share of users who complete.
    public var completed: Double
    /// Share who fail (wrong PIN, declined).
    public var failed: Double
    /// Share who cancel in the app.
    public var cancelled: Double
    /// From creation (a redirect flow: from the page opening) straight to the outcome, as a calibrated
    /// model knows it; when set, it replaces ``firstAction`` and ``completion``, and the user acts at once.
    public var outcomeTime: LogNormal?
    /// The rest abandon the session, which then expires.
    public var abandoned: Double { max(0, 1 - completed - failed - cancelled) }

    /// Creates a profile.
    public init(firstAction: LogNormal, completion: LogNormal, completed: Double, failed: Double, cancelled: Double) {
        self.firstAction = firstAction
        self.completion = completion
        self.completed = completed
        self.failed = failed
        self.cancelled = cancelled
    }

    /// A calibrated profile: the time to the outcome and the outcomes' shares.
    public init(outcomeTime: LogNormal, completed: Double, failed: Double, cancelled: Double) {
        self.init(firstAction: LogNormal(median: 0, p95: 0), completion: outcomeTime, completed: completed, failed: failed, cancelled: cancelled)
        self.outcomeTime = outcomeTime
    }

    /// P(the user's outcome comes by point i), for a user who does not abandon, at points `grid` seconds
    /// apart from creation, `count` of them. A two-stage profile's is the convolution of its stages on
    /// the grid: the first action's mass in the cell around each point, then the completion's distribution.
    public func outcomeDistribution(grid: Double, count: Int) -> [Double] {
        let points = (0..<count).map { Double($0) * grid }
        if let outcomeTime { return points.map(outcomeTime.cdf) }
        let second = points.map(completion.cdf)
        let mass = points.map { firstAction.cdf($0 + grid / 2) - firstAction.cdf($0 - grid / 2) }
        return (0..<count).map { k in (0...k).reduce(0) { $0 + mass[$1] * second[k - $1] } }
    }
}

/// One eID provider the sandbox offers.
public struct Provider: Sendable, Codable, Equatable {
    /// The id clients send as `providerId`.
    public var id: String
    /// Display name.
    public var name: String
    /// ISO country codes.
    public var countries: [String]
    /// The flow the provider uses.
    public var flowType: FlowType
    /// `provenance.presentation.channel.type`.
    public var channel: String
    /// `provenance.presentation.channel.transport`.
    public var transport: String
    /// The keys of the provider's evidence token.
    public var evidenceKeys: [String]
    /// How its users behave.
    public var behaviour: UserBehaviour

    /// The providers every sandbox offers unless its configuration replaces them.
    public static let catalogue: [Provider] = [
        Provider(
            id: "bankidse", name: "BankID (Sweden)", countries: ["SE"], flowType: .qr, channel: "centralized_idp", transport: "qr_code",
            evidenceKeys: ["personalNumber", "signature", "ocspResponse"],
            behaviour: UserBehaviour(firstAction: LogNormal(median: 8, p95: 25), completion: LogNormal(median: 12, p95: 40),
                                     completed: 0.85, failed: 0.05, cancelled: 0.03)),
        Provider(
            id: "frejaid", name: "Freja eID", countries: ["SE", "NO", "DK", "FI"], flowType: .qr, channel: "wallet", transport: "qr_code",
            evidenceKeys: ["ssn", "country", "loa", "registrationLevel"],
            behaviour: UserBehaviour(firstAction: LogNormal(median: 10, p95: 30), completion: LogNormal(median: 15, p95: 50),
                                     completed: 0.82, failed: 0.06, cancelled: 0.03)),
        Provider(
            id: "smartid", name: "Smart-ID", countries: ["EE", "LV", "LT"], flowType: .push, channel: "centralized_idp", transport: "internet",
            evidenceKeys: ["documentNumber", "certificateLevel", "interactionType"],
            behaviour: UserBehaviour(firstAction: LogNormal(median: 5, p95: 15), completion: LogNormal(median: 10, p95: 30),
                                     completed: 0.88, failed: 0.04, cancelled: 0.03)),
        Provider(
            id: "evrotrust", name: "Evrotrust", countries: ["BG"], flowType: .push, channel: "wallet", transport: "internet",
            evidenceKeys: ["transactionId", "idNumber", "signedDocument"],
            behaviour: UserBehaviour(firstAction: LogNormal(median: 6, p95: 20), completion: LogNormal(median: 14, p95: 45),
                                     completed: 0.84, failed: 0.06, cancelled: 0.03)),
        Provider(
            id: "mitid", name: "MitID", countries: ["DK"], flowType: .redirect, channel: "centralized_idp", transport: "internet",
            evidenceKeys: ["idToken", "uuid", "loa"],
            behaviour: UserBehaviour(firstAction: LogNormal(median: 4, p95: 12), completion: LogNormal(median: 20, p95: 60),
                                     completed: 0.86, failed: 0.05, cancelled: 0.03)),
    ]
}
