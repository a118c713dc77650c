/// The sandbox's answer and how to deliver it.
public struct SandboxResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var delivery: ResponseDelivery = .normal
    /// Wall-clock delay before answering.
    public var delay: Duration = .zero

    init(status: Int, json: [UInt8]? = nil, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = json ?? []
        self.headers = (json == nil ? [] : [("Content-Type", "application/json")]) + headers
    }
}
