/// One API request as the sandbox sees it, free of any server library.
public struct SandboxRequest: Sendable {
    public var method: String
    /// The path without the query.
    public var path: String
    public var authorization: String?
    /// `X-Pollbench-Key`: the session's key in the workload, so its user behaves the same in every run.
    public var workloadKey: String?
    public var body: [UInt8]
    /// The authority (`host:port`) the client reached the service at, from its `Host` header, and the
    /// scheme; the authorization pages it is sent to are there. Nil: the service's own ``SandboxService/origin``.
    public var authority: String?
    public var scheme: String

    public init(method: String, path: String, authorization: String? = nil, workloadKey: String? = nil, body: [UInt8] = [], authority: String? = nil, scheme: String = "http") {
        self.method = method
        self.path = path
        self.authorization = authorization
        self.workloadKey = workloadKey
        self.body = body
        self.authority = authority
        self.scheme = scheme
    }

    /// Where the client reached the service (`https://host:port`), made only for the answer that tells it
    /// (a create's authorization URL), not for every poll.
    public var origin: String? { authority.map { "\(scheme)://\($0)" } }
}
