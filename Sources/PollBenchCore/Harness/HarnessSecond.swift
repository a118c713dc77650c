/// One wall second of the harness's own load in a live run: the CPU it spent, how late its loops ran,
/// and the requests that waited for a connection. What tells a reader whether pollbench, rather than
/// the service, set the figures of that second.
public struct HarnessSecond: Sendable, Codable, Equatable {
    /// Seconds since the run started.
    public var second: Int
    /// CPU time of the whole process in this second, µs: the engines' loops, and the embedded sandbox
    /// and webhook receiver when they run in-process.
    public var processCPUMicros: Int64 = 0
    /// CPU time of the engines' loop threads, summed, µs.
    public var loopCPUMicros: Int64 = 0
    /// CPU time of the busiest loop thread, µs.
    public var busiestLoopCPUMicros: Int64 = 0
    /// How late the latest loop turn ran after the earliest timer it was due for, µs.
    public var loopLagMaxMicros: Int64 = 0
    /// The longest turn the loops spent away from their sockets, µs: an answer may have waited that long
    /// in its socket. Nil where not measured (virtual time, and results written before it was).
    public var busyTurnMaxMicros: Int64?
    /// Requests whose transfer started after a wait for a free connection.
    public var connectionWaits = 0
    /// The longest of those waits, µs.
    public var connectionWaitMaxMicros: Int64 = 0
    /// The most requests in flight (waiting for a connection included), each loop's peak added: a bound
    /// from above on the process's, as the loops peak at different instants.
    public var inFlightPeak = 0
    /// The most requests waiting for a free connection, each loop's peak added (a bound from above).
    public var waitingPeak = 0
    /// The most connections open, each loop's peak added (a bound from above).
    public var openConnectionsPeak = 0

    public init(second: Int) {
        self.second = second
    }

    /// Adds another loop's figures for the same second.
    public mutating func add(_ other: HarnessSecond) {
        processCPUMicros += other.processCPUMicros
        loopCPUMicros += other.loopCPUMicros
        busiestLoopCPUMicros = max(busiestLoopCPUMicros, other.busiestLoopCPUMicros)
        loopLagMaxMicros = max(loopLagMaxMicros, other.loopLagMaxMicros)
        if let theirs = other.busyTurnMaxMicros { busyTurnMaxMicros = max(busyTurnMaxMicros ?? 0, theirs) }
        connectionWaits += other.connectionWaits
        connectionWaitMaxMicros = max(connectionWaitMaxMicros, other.connectionWaitMaxMicros)
        inFlightPeak += other.inFlightPeak
        waitingPeak += other.waitingPeak
        openConnectionsPeak += other.openConnectionsPeak
    }
}
