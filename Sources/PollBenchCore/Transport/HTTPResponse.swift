/// The response header fields pollbench uses; the others are not kept.
public struct ResponseHeaders: Sendable, Equatable {
    /// The raw `Retry-After` value; parse it with ``RetryAfter/init(headerValue:)``.
    public var retryAfter: String?
    /// The raw `Date` value (the server's wall clock), kept with a `Retry-After` only: an HTTP date in
    /// `Retry-After` is read against it.
    public var date: String?
    /// The raw `Content-Type`, for a request that asked for it (``HTTPRequest/readsServiceHeaders``).
    public var contentType: String?
    /// The time scale a pollbench sandbox announces (``ModelClock/timeScaleHeader``), for a request that
    /// asked for it.
    public var timeScale: String?

    /// Creates a header set.
    public init(retryAfter: String? = nil, date: String? = nil, contentType: String? = nil, timeScale: String? = nil) {
        self.retryAfter = retryAfter
        self.date = date
        self.contentType = contentType
        self.timeScale = timeScale
    }
}

/// The transport's own timing of one transfer, in microseconds from its start
/// (each figure includes the ones before it, as curl reports them: its `*_TIME_T` values).
/// Name resolution, connect and TLS are 0 on a transfer that reused a connection.
public struct TransferTiming: Sendable, Equatable {
    /// Name resolution done.
    public var dnsMicros: Int64
    /// TCP connection established.
    public var connectMicros: Int64
    /// TLS handshake done (0 for plain HTTP).
    public var tlsMicros: Int64
    /// About to send the request: the connection (new or reused) is ready.
    public var requestSentMicros: Int64
    /// First response byte received.
    public var firstByteMicros: Int64
    /// Transfer complete.
    public var totalMicros: Int64

    /// Creates a timing record.
    public init(dnsMicros: Int64 = 0, connectMicros: Int64 = 0, tlsMicros: Int64 = 0, requestSentMicros: Int64 = 0, firstByteMicros: Int64 = 0, totalMicros: Int64 = 0) {
        self.dnsMicros = dnsMicros
        self.connectMicros = connectMicros
        self.tlsMicros = tlsMicros
        self.requestSentMicros = requestSentMicros
        self.firstByteMicros = firstByteMicros
        self.totalMicros = totalMicros
    }

    /// How long each phase took (µs), as ``TransferPhase`` names them; the connection's phases only when
    /// this transfer opened one (a reused connection costs nothing there).
    public func phases(openedConnection: Bool) -> [(TransferPhase, Int64)] {
        var phases: [(TransferPhase, Int64)] = []
        phases.reserveCapacity(openedConnection ? 5 : 2)  // one allocation per response
        if openedConnection {
            phases.append((.dns, dnsMicros))
            phases.append((.connect, connectMicros - dnsMicros))
            if tlsMicros > 0 { phases.append((.tls, tlsMicros - connectMicros)) }
        }
        phases.append((.firstByte, firstByteMicros - requestSentMicros))
        phases.append((.total, totalMicros))
        return phases
    }
}

/// A phase of a transfer, as k6 splits `http_req_duration`: name resolution, TCP connect, TLS handshake
/// (each only on a transfer that opened a connection), the wait for the first byte after the request
/// was sent (k6's `http_req_waiting`) and the whole transfer.
public enum TransferPhase: String, Sendable, CaseIterable, Codable {
    case dns, connect, tls
    case firstByte = "first-byte"
    case total

    /// Its place in `allCases`, without a search.
    public var index: Int {
        switch self {
        case .dns: 0
        case .connect: 1
        case .tls: 2
        case .firstByte: 3
        case .total: 4
        }
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
    /// The transport's timing breakdown; nil when no transport measured one (a simulation).
    public var timing: TransferTiming?
    /// Whether the transfer opened a new connection (false: a kept-alive one was reused).
    public var openedConnection: Bool
    /// The HTTP version the response came in (`1.1`, `2`, `3`); nil when not known.
    public var httpVersion: String?
    /// Times the transport sent the request again because the server closed the connection under it
    /// before processing it (an HTTP/2 GOAWAY); the timing is the last attempt's.
    public var retries: Int

    /// Creates a response.
    public init(
        status: Int, headers: ResponseHeaders = ResponseHeaders(), body: [UInt8] = [], timing: TransferTiming? = nil, openedConnection: Bool = false,
        httpVersion: String? = nil, retries: Int = 0
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.timing = timing
        self.openedConnection = openedConnection
        self.httpVersion = httpVersion
        self.retries = retries
    }
}
