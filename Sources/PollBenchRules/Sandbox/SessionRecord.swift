/// One session as the admin API lists it; times in model epoch milliseconds.
public struct SessionRecord: Sendable, Codable, Equatable {
    public var verificationId: String
    public var key: String
    public var clientId: String
    public var providerId: String
    public var status: String
    public var createdAt: Int64
    public var pendingAt: Int64?
    public var terminalAt: Int64?
}
