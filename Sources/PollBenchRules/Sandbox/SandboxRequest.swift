/// One API request as the sandbox sees it, free of any server library.
public struct SandboxRequest: Sendable {
    public var method: String
    /// The path without the query.
    public var path: String
    public var authorization: String?
    /// `X-Pollbench-Key`: the session's key in the workload, so its user behaves the same in every run.
    public var workloadKey: String?
    public var body: [UInt8]
    /// The scheme and authority the client reached the service at (`https://host:port`), from its
    /// `Host` header; the authorization pages it is sent to are there. Nil: the service's own ``SandboxService/origin``.
    public var origin: String?

    public init(method: String, path: String, authorization: String? = nil, workloadKey: String? = nil, body: [UInt8] = [], origin: String? = nil) {
        self.method = method
        self.path = path
        self.authorization = authorization
        self.workloadKey = workloadKey
        self.body = body
        self.origin = origin
    }
}
