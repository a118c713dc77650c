/// The response header fields pollbench uses; the others are not kept.
public struct ResponseHeaders: Sendable, Equatable {
    /// The raw `Retry-After` value; parse it with ``RetryAfter/init(headerValue:)``.
    public var retryAfter: String?
    /// The raw `Date` value (the server's wall clock).
    public var date: String?
    /// The raw `Content-Type` value.
    public var contentType: String?

    /// Creates a header set.
    public init(retryAfter: String? = nil, date: String? = nil, contentType: String? = nil) {
        self.retryAfter = retryAfter
        self.date = date
        self.contentType = contentType
    }
}

/// The transport's own timing of one transfer, in microseconds from its start
/// (each figure includes the ones before it, as curl reports them).
public struct TransferTiming: Sendable, Equatable {
    /// Name resolution done.
    public var dnsMicros: Int64
    /// TCP connection established.
    public var connectMicros: Int64
    /// TLS handshake done (0 for plain HTTP).
    public var tlsMicros: Int64
    /// First response byte received.
    public var firstByteMicros: Int64
    /// Transfer complete.
    public var totalMicros: Int64

    /// Creates a timing record.
    public init(dnsMicros: Int64 = 0, connectMicros: Int64 = 0, tlsMicros: Int64 = 0, firstByteMicros: Int64 = 0, totalMicros: Int64 = 0) {
        self.dnsMicros = dnsMicros
        self.connectMicros = connectMicros
        self.tlsMicros = tlsMicros
        self.firstByteMicros = firstByteMicros
        self.totalMicros = totalMicros
    }
}

/// A completed HTTP exchange (any status code: a 5xx is a response, not a transport error).
public struct HTTPResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The header fields pollbench uses.
    public var headers: ResponseHeaders
    /// The body bytes.
    public var body: [UInt8]
    /// The transport's timing breakdown.
    public var timing: TransferTiming
    /// Whether the transfer opened a new connection (false: a kept-alive one was reused).
    public var openedConnection: Bool

    /// Creates a response.
    public init(status: Int, headers: ResponseHeaders = ResponseHeaders(), body: [UInt8] = [], timing: TransferTiming = TransferTiming(), openedConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.timing = timing
        self.openedConnection = openedConnection
    }
}
