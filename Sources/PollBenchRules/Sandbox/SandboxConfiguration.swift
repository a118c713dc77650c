/// Everything that shapes a sandbox: its clients and their budgets, providers, lifecycle and faults.
/// Decoded from the `--config` JSON file; every field has a default.
public struct SandboxConfiguration: Sendable, Codable {
    /// One API client and its request budget.
    public struct Client: Sendable, Codable, Equatable {
        /// The Basic-auth user.
        public var id: String
        /// The Basic-auth password.
        public var secret: String
        /// The client's overall budget; nil: unlimited.
        public var rateLimit: TokenBucket.Limit?
        /// Budgets for single endpoints (`create`, `status`, `userinfo`, `evidence`, `cancel`, `providers`), on top of the overall one.
        public var endpointLimits: [String: TokenBucket.Limit]
        /// Providers this client may use; nil: all.
        public var enabledProviders: [String]?
        /// The key its webhooks are signed with; nil: `POLLBENCH_WEBHOOK_SECRET` when set, else none sent.
        public var webhookSecret: String?

        /// Creates a client.
        public init(
            id: String, secret: String, rateLimit: TokenBucket.Limit? = nil, endpointLimits: [String: TokenBucket.Limit] = [:], enabledProviders: [String]? = nil,
            webhookSecret: String? = nil
        ) {
            self.id = id
            self.secret = secret
            self.webhookSecret = webhookSecret
            self.rateLimit = rateLimit
            self.endpointLimits = endpointLimits
            self.enabledProviders = enabledProviders
        }

        private enum CodingKeys: String, CodingKey { case id, secret, rateLimit, endpointLimits, enabledProviders, webhookSecret }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            secret = try c.decode(String.self, forKey: .secret)
            rateLimit = try c.decodeIfPresent(TokenBucket.Limit.self, forKey: .rateLimit)
            endpointLimits = try c.decodeIfPresent([String: TokenBucket.Limit].self, forKey: .endpointLimits) ?? [:]
            enabledProviders = try c.decodeIfPresent([String].self, forKey: .enabledProviders)
            webhookSecret = try c.decodeIfPresent(String.self, forKey: .webhookSecret)
        }
    }

    /// The API clients.
    public var clients: [Client] = []
    /// The providers offered.
    public var providers: [Provider] = Provider.catalogue
    /// The seed of every random choice.
    public var seed: UInt64 = 1
    /// Model seconds per wall second.
    public var timeScale: Double = 1
    /// Model seconds from creation to expiry.
    public var ttlSeconds: Double = 300
    /// Model seconds a session is kept after it expires, for late reads; then it is evicted.
    public var graceSeconds: Double = 120
    /// The faults to inject.
    public var faults = FaultConfiguration()
    /// How webhooks are sent, and their faults.
    public var webhooks = WebhookConfiguration()
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes: Int = 64 * 1024
    /// The API generation it speaks: `api-v1` (`/api/v1`) or `connect-v1` (`/connect/v1`).
    public var api = APIGeneration.apiV1

    /// The default configuration.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case clients, providers, seed, timeScale, ttlSeconds, graceSeconds, faults, webhooks, maxBodyBytes, api
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clients = try c.decodeIfPresent([Client].self, forKey: .clients) ?? []
        providers = try c.decodeIfPresent([Provider].self, forKey: .providers) ?? Provider.catalogue
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        timeScale = try c.decodeIfPresent(Double.self, forKey: .timeScale) ?? 1
        ttlSeconds = try c.decodeIfPresent(Double.self, forKey: .ttlSeconds) ?? 300
        graceSeconds = try c.decodeIfPresent(Double.self, forKey: .graceSeconds) ?? 120
        faults = try c.decodeIfPresent(FaultConfiguration.self, forKey: .faults) ?? FaultConfiguration()
        webhooks = try c.decodeIfPresent(WebhookConfiguration.self, forKey: .webhooks) ?? WebhookConfiguration()
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? 64 * 1024
        api = try c.decodeIfPresent(APIGeneration.self, forKey: .api) ?? .apiV1
    }

    /// The first problem that makes this configuration unusable, as one sentence; nil when it is fine.
    public func problem() -> String? {
        if clients.isEmpty { return "no client credentials configured" }
        if Set(clients.map(\.id)).count != clients.count { return "client ids must be unique" }
        if let client = clients.first(where: { $0.id.isEmpty || $0.secret.isEmpty || $0.id.contains(":") }) {
            return "client '\(client.id)': id and secret must be non-empty and the id must not contain ':'"
        }
        let limits = clients.flatMap { [$0.rateLimit].compactMap { $0 } + Array($0.endpointLimits.values) }
        if limits.contains(where: { !($0.rate > 0) || $0.burst < 1 }) { return "rate limits need rate > 0 and burst >= 1" }
        let endpoints = Set(SandboxEndpoint.allCases.map(\.rawValue))
        if let unknown = clients.flatMap({ $0.endpointLimits.keys }).first(where: { !endpoints.contains($0) }) {
            return "unknown endpoint '\(unknown)' in endpointLimits (known: \(endpoints.sorted().joined(separator: ", ")))"
        }
        if providers.isEmpty { return "no providers configured" }
        if let problem = ModelClock.scaleProblem(timeScale) { return "timeScale: \(problem)" }
        if !(ttlSeconds > 0) || !(graceSeconds >= 0) { return "ttlSeconds must be > 0 and graceSeconds >= 0" }
        if maxBodyBytes < 256 { return "maxBodyBytes must be at least 256" }
        if clients.contains(where: { $0.webhookSecret?.isEmpty == true }) { return "a client's webhookSecret must not be empty" }
        return faults.problem() ?? webhooks.problem()
    }
}

/// The API's endpoints, as rate limits and ground-truth counts name them.
public enum SandboxEndpoint: String, Sendable, CaseIterable, Codable {
    case create, status, userinfo, evidence, cancel, providers, authorize, unknown
}
