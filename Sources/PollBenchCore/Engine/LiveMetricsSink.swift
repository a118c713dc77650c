import PollBenchRules

/// Where one engine reports as it goes, for a live view of a run (`pollbench run --metrics-listen`).
/// Called on the engine's loop thread: an implementation is thread-safe and cheap. Without one, the
/// engine reports nothing and pays nothing.
public protocol LiveMetricsSink: Sendable {
    /// A request's answer: its endpoint, its status (`429`, or `transport:KIND` without a response) and
    /// its latency from the actual send, wall µs.
    func answered(_ endpoint: Endpoint, status: String, latencyMicros: Int64)
    /// A session arrived.
    func sessionStarted()
    /// A session ended; with its detection lag (model µs) when the service's clock is the client's, so
    /// that no offset is needed to know it now.
    func sessionEnded(_ outcome: SessionOutcome, detectionLagMicros: Int64?)
    /// One loop turn: how late it ran for its earliest due timer (wall µs; nil: none was due) and the loop's state.
    func loopTurned(lagMicros: Int64?, inFlight: Int, waitingForConnection: Int, openConnections: Int?)
    /// A request's transfer started after waiting this long for a free connection, wall µs.
    func waitedForConnection(micros: Int64)
}
