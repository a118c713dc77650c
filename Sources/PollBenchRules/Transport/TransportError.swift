/// Why a request got no HTTP response. Keeps the transport's own code and message.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failure classes that a load test counts separately.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Nothing listened on the port.
        case connectionRefused = "connection-refused"
        /// The request's time limit passed.
        case timeout
        /// The peer closed or reset the connection, or sent nothing.
        case connectionReset = "connection-reset"
        /// The response ended before its declared length.
        case truncated
        /// TLS handshake or certificate verification failed.
        case tls
        /// The host name did not resolve.
        case dns
        /// The URL or an option was rejected before sending.
        case invalidRequest = "invalid-request"
        /// The server shut an HTTP/2 connection (GOAWAY) with the request on it; the transport sent it
        /// again on a new connection. Counted as a request sent, not as an error.
        case goaway
        /// Any other failure.
        case other
    }

    /// The failure class.
    public var kind: Kind
    /// The transport's numeric code (curl's `CURLcode`), 0 when none.
    public var code: Int
    /// The transport's message.
    public var message: String

    /// Creates an error.
    public init(kind: Kind, code: Int = 0, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(kind.rawValue) (\(code)): \(message)" }
}
