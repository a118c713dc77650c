/// What the server must do to deliver a response, beyond sending it.
public enum ResponseDelivery: Sendable, Equatable {
    /// Send it as it is.
    case normal
    /// Send the head and half the body, then close the connection.
    case closeMidResponse
    /// Send the body in small pieces spread over this many wall milliseconds.
    case drip(millis: Int)
}

/// The kinds of injected fault, as the ground truth counts them.
public enum FaultKind: String, Sendable, CaseIterable {
    case latency, serverError = "server-error", close, malformed, drip, outage
}
