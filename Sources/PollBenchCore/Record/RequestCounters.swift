import PollBenchRules

/// Request-level counts.
public struct RequestCounters: Sendable, Codable, Equatable {
    /// Requests sent.
    public var requests = 0
    /// Responses by endpoint, then by HTTP status, or `transport:<kind>` when none came.
    public var byEndpoint: [String: [String: Int]] = [:]
    /// API error codes from error envelopes.
    public var apiErrorCodes: [String: Int] = [:]
    /// Transport errors by kind.
    public var transportErrors: [String: Int] = [:]
    /// Responses whose body was not the JSON expected.
    public var malformedBodies = 0
    /// 429 responses.
    public var rateLimited = 0
    /// Model milliseconds spent waiting beyond the strategy because of `Retry-After`.
    public var retryAfterWaitMillis: Int64 = 0
    /// Statuses the client does not know, treated as non-terminal.
    public var unknownStatuses: [String: Int] = [:]
    /// What the transport reported about its connections (live runs only).
    public var connections = ConnectionCounts()

    /// One request's answer as the counts see it.
    public enum Answer: Sendable, Equatable {
        /// An HTTP response: its status, the error envelope's code (counted when present), and whether a
        /// success body could not be read.
        case response(status: Int, errorCode: String?, malformed: Bool)
        /// No response: the transport failed.
        case transport(TransportError.Kind)

        var isRateLimited: Bool {
            if case .response(429, _, _) = self { true } else { false }
        }
    }

    /// Counts `times` answers to `endpoint`: every request is counted here, once, by every runner.
    public mutating func count(_ endpoint: Endpoint, _ answer: Answer, times: Int = 1) {
        requests += times
        switch answer {
        case .response(let status, let code, let malformed):
            byEndpoint[endpoint.rawValue, default: [:]][String(status), default: 0] += times
            if status == 429 { rateLimited += times }
            if let code { apiErrorCodes[code, default: 0] += times }
            if malformed { malformedBodies += times }
        case .transport(let kind):
            byEndpoint[endpoint.rawValue, default: [:]]["transport:\(kind.rawValue)", default: 0] += times
            if kind != .goaway { transportErrors[kind.rawValue, default: 0] += times }
        }
    }

    mutating func merge(_ other: RequestCounters) {
        requests += other.requests
        for (endpoint, statuses) in other.byEndpoint {
            byEndpoint[endpoint, default: [:]].merge(statuses, uniquingKeysWith: +)
        }
        apiErrorCodes.merge(other.apiErrorCodes, uniquingKeysWith: +)
        transportErrors.merge(other.transportErrors, uniquingKeysWith: +)
        malformedBodies += other.malformedBodies
        rateLimited += other.rateLimited
        retryAfterWaitMillis += other.retryAfterWaitMillis
        unknownStatuses.merge(other.unknownStatuses, uniquingKeysWith: +)
        connections.merge(other.connections)
    }
}

/// Transfers by whether they opened a connection, and by the HTTP version they spoke.
public struct ConnectionCounts: Sendable, Codable, Equatable {
    /// Transfers that opened a connection (TCP, and TLS where used).
    public var opened = 0
    /// Transfers that went over a connection already open (kept alive, or a multiplexed HTTP/2 stream).
    public var reused = 0
    /// Responses by HTTP version (`1.1`, `2`).
    public var httpVersions: [String: Int] = [:]
    /// Requests the transport sent again after the server closed their connection unprocessed (HTTP/2 GOAWAY).
    public var retriedAfterGoaway = 0

    public init() {}

    /// Whether any transfer was counted: a live run's transport reports, a simulation's has none.
    public var isEmpty: Bool { opened == 0 && reused == 0 }

    mutating func count(_ response: HTTPResponse) {
        if response.openedConnection { opened += 1 } else { reused += 1 }
        if let version = response.httpVersion { httpVersions[version, default: 0] += 1 }
        retriedAfterGoaway += response.retries
    }

    mutating func merge(_ other: ConnectionCounts) {
        opened += other.opened
        reused += other.reused
        httpVersions.merge(other.httpVersions, uniquingKeysWith: +)
        retriedAfterGoaway += other.retriedAfterGoaway
    }
}
