import Histogram
import PollBenchRules

/// What one engine's loop measures of itself, per wall second of the run: its thread's CPU time, how
/// late its turns ran, its requests' waits for a connection, its requests in flight and connections.
/// Confined to the loop's thread, like the engine that owns it.
public struct HarnessRecorder: Sendable {
    /// Waits for a connection longer than this count against the harness (see ``HarnessHealth``).
    public static let longConnectionWaitMicros: Int64 = 10_000

    /// Second by second since the run's start (an index is its second).
    public private(set) var seconds: [HarnessSecond] = []
    /// Every loop turn's lateness against the earliest timer it was due for, µs.
    public private(set) var loopLag = Histograms.micros()
    /// Over the loop's wall time, the most an answer arriving at that instant waited in its socket before
    /// the loop read it, µs, weighted by time: a busy turn's length for each µs of it, 0 for each µs of a
    /// wait on the sockets (recorded as 1 µs, the histogram's floor). A bound from above, not a measurement.
    public private(set) var socketWaitBound = Histograms.micros()
    /// Turns away from the sockets of at least ``longTurnMicros``: their wall time and the loop thread's
    /// CPU time in them, µs (whether the loop was slow itself or lost its core).
    public private(set) var longTurnWallMicros: Int64 = 0
    public private(set) var longTurnCPUMicros: Int64 = 0
    /// A turn away from the sockets this long counts as long.
    public static let longTurnMicros: Int64 = 1_000
    /// Every wait for a free connection, µs.
    public private(set) var connectionWait = Histograms.micros()
    /// Waits longer than ``longConnectionWaitMicros``.
    public private(set) var longConnectionWaits = 0
    /// Requests whose transfer started.
    public private(set) var requestsStarted = 0
    /// Every wait of a request the run's own request-rate cap (`--max-rate`) held back, µs.
    public private(set) var rateCapWait = Histograms.micros()

    private let originNanos: Int64
    private let samplesProcess: Bool
    /// The CPU clocks when last read, and the second they were read in.
    private var mark: (second: Int, thread: Int64, process: Int64)?

    /// - Parameters:
    ///   - originNanos: the run's start, in the engine's wall nanoseconds.
    ///   - samplesProcess: whether this loop also reads the whole process's CPU time (one loop of a run does).
    public init(originNanos: Int64, samplesProcess: Bool) {
        self.originNanos = originNanos
        self.samplesProcess = samplesProcess
    }

    /// One loop turn at wall time `nanos`: how late it ran (nil: no timer was due), how the loop spent
    /// the turn before it (nil: no sockets, in virtual time) and the loop's state.
    public mutating func turn(at nanos: Int64, lagNanos: Int64?, previous: LoopTurnTimes? = nil, inFlight: Int, waiting: Int, openConnections: Int?) {
        let second = index(nanos)
        if let previous {
            let busy = max(0, previous.busyNanos / 1_000), waited = max(0, previous.waitNanos / 1_000)
            if busy > 0 { socketWaitBound.record(UInt64(busy), count: UInt64(busy)) }
            if busy >= Self.longTurnMicros {
                longTurnWallMicros += busy
                longTurnCPUMicros += min(busy, max(0, previous.busyCPUMicros))
            }
            if waited > 0 { socketWaitBound.record(1, count: UInt64(waited)) }
            seconds[second].busyTurnMaxMicros = max(seconds[second].busyTurnMaxMicros ?? 0, busy)
        }
        if let lagNanos {
            let micros = max(0, lagNanos / 1_000)
            loopLag.record(UInt64(clamping: max(1, micros)))
            seconds[second].loopLagMaxMicros = max(seconds[second].loopLagMaxMicros, micros)
        }
        seconds[second].inFlightPeak = max(seconds[second].inFlightPeak, inFlight)
        seconds[second].waitingPeak = max(seconds[second].waitingPeak, waiting)
        seconds[second].openConnectionsPeak = max(seconds[second].openConnectionsPeak, openConnections ?? 0)
        if mark?.second != second { readCPU(closing: second) }
    }

    /// A request's transfer started at `nanos`, after waiting `waitedNanos` for a free connection (0: none).
    public mutating func started(at nanos: Int64, waitedNanos: Int64) {
        requestsStarted += 1
        guard waitedNanos > 0 else { return }
        let second = index(nanos)
        let micros = waitedNanos / 1_000
        connectionWait.record(UInt64(clamping: max(1, micros)))
        if micros > Self.longConnectionWaitMicros { longConnectionWaits += 1 }
        seconds[second].connectionWaits += 1
        seconds[second].connectionWaitMaxMicros = max(seconds[second].connectionWaitMaxMicros, micros)
    }

    /// The run's request-rate cap held a request back for `waitedNanos` before the transport had it.
    public mutating func heldByRateCap(waitedNanos: Int64) {
        rateCapWait.record(UInt64(clamping: max(1, waitedNanos / 1_000)))
    }

    /// Puts the CPU time spent since the last reading into the second it was read in; call once the loop ends.
    public mutating func finish(at nanos: Int64) {
        readCPU(closing: index(nanos))
    }

    /// Reads the CPU clocks, charging what was spent since the last reading to that reading's second
    /// (the loop turns at least once a second, so a second's CPU lands in it or the one after).
    private mutating func readCPU(closing second: Int) {
        let thread = CPUClock.threadMicros()
        let process = samplesProcess ? CPUClock.processMicros() : 0
        if let mark {
            seconds[mark.second].loopCPUMicros += thread - mark.thread
            seconds[mark.second].busiestLoopCPUMicros = seconds[mark.second].loopCPUMicros
            seconds[mark.second].processCPUMicros += process - mark.process
        }
        mark = (second, thread, process)
    }

    /// The second of the run that `nanos` falls in, with the seconds up to it in place.
    private mutating func index(_ nanos: Int64) -> Int {
        let second = Int(max(0, nanos - originNanos) / 1_000_000_000)
        while seconds.count <= second { seconds.append(HarnessSecond(second: seconds.count)) }
        return second
    }
}
