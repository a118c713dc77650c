import Histogram

/// The harness's own health over a live run: what its loops cost and how late they ran, second by
/// second and in total, and a warning when pollbench itself limited what it measured (its queues then
/// sit inside the latencies and lags it reports).
public struct HarnessHealth: Sendable, Codable, Equatable {
    /// A second counts as busy above this share of a core (for a loop thread) or of the cores (the process).
    public static let busyShare = 0.85
    /// The warning's bounds: busy in more than this share of the seconds, loop lag p99 above this (ms),
    /// and more than this share of requests waiting longer than ``HarnessRecorder/longConnectionWaitMicros``.
    public static let busySecondsShare = 0.10
    public static let loopLagP99BoundMillis = 10.0
    public static let longWaitShare = 0.01

    /// Processors the process may run on.
    public var cores: Int
    /// Engine loops (`--workers`) and connections each (`--connections`).
    public var workers: Int
    public var connectionsPerWorker: Int
    /// CPU seconds of the whole process over the seconds below, and of the loop threads alone.
    public var cpuSeconds: Double
    public var loopCPUSeconds: Double
    /// Seconds in which the process used over ``busyShare`` of its cores, or a loop thread over that share of one.
    public var busySeconds: Int
    /// Loop turns' lateness against their earliest due timer (wall-ms).
    public var loopLag: Distribution
    /// Over the loops' wall time, the most an answer could have waited in its socket before its loop read
    /// it (wall-ms, time-weighted: see ``HarnessRecorder/socketWaitBound``). A bound on the share of a
    /// latency that is the harness's own; nil where not measured (virtual time, older results).
    public var socketWaitBound: Distribution?
    /// Of the loops' turns away from their sockets of 1 ms or more, the share of their wall time the loop
    /// threads had the CPU: near 1, the loops were slow themselves; well under, the machine ran something
    /// else on their cores. Nil when there was no such turn (or in results written before it was measured).
    public var longTurnCPUShare: Double?
    /// Waits for a free connection, of the requests that waited (wall-ms).
    public var connectionWait: Distribution
    /// Requests whose transfer started, and those that waited longer than 10 ms for a connection.
    public var requests: Int
    public var longConnectionWaits: Int
    /// This process's cap on requests per wall second (its share of `--max-rate`), and the waits of the
    /// requests the cap held back (wall-ms; a count of 0 when it held none back). Nil in results written
    /// before they were measured, and in runs with no cap.
    public var maxRequestsPerSecond: Double?
    public var rateCapWait: Distribution?
    /// The highest per-second peaks (each a sum of the loops' peaks: a bound from above).
    public var peakInFlight: Int
    public var peakWaitingForConnection: Int
    public var peakOpenConnections: Int
    /// Second by second, from the run's start.
    public var seconds: [HarnessSecond]
    /// One line naming what limited the measurement and the remedy; nil when nothing did.
    public var warning: String?

    /// Adds up every loop's recorder of a run (all workers, all rounds).
    /// The cores the run could use, as a phrase: "1 core", "2 cores".
    public var coresPhrase: String { cores == 1 ? "1 core" : "\(cores) cores" }

    public init(recorders: [HarnessRecorder], cores: Int, workers: Int, connectionsPerWorker: Int, maxRequestsPerSecond: Double? = nil) {
        self.cores = max(1, cores)
        self.workers = workers
        self.connectionsPerWorker = connectionsPerWorker
        self.maxRequestsPerSecond = maxRequestsPerSecond
        var seconds: [HarnessSecond] = []
        let lag = Histograms.micros(), wait = Histograms.micros(), socket = Histograms.micros(), capped = Histograms.micros()
        var (loopLag, connectionWait, socketWait, rateCapWait) = (lag, wait, socket, capped)
        for recorder in recorders {
            for second in recorder.seconds {
                while seconds.count <= second.second { seconds.append(HarnessSecond(second: seconds.count)) }
                seconds[second.second].add(second)
            }
            loopLag.add(recorder.loopLag)
            socketWait.add(recorder.socketWaitBound)
            connectionWait.add(recorder.connectionWait)
            rateCapWait.add(recorder.rateCapWait)
        }
        self.rateCapWait = maxRequestsPerSecond.map { _ in Distribution(rateCapWait, unit: "wall-ms", divisor: 1_000) }
        self.seconds = seconds
        self.loopLag = Distribution(loopLag, unit: "wall-ms", divisor: 1_000)
        self.connectionWait = Distribution(connectionWait, unit: "wall-ms", divisor: 1_000)
        socketWaitBound = socketWait.totalCount > 0 ? Distribution(socketWait, unit: "wall-ms", divisor: 1_000) : nil
        let longWall = recorders.reduce(0) { $0 + $1.longTurnWallMicros }, longCPU = recorders.reduce(0) { $0 + $1.longTurnCPUMicros }
        longTurnCPUShare = longWall > 0 ? Double(longCPU) / Double(longWall) : nil
        requests = recorders.reduce(0) { $0 + $1.requestsStarted }
        longConnectionWaits = recorders.reduce(0) { $0 + $1.longConnectionWaits }
        cpuSeconds = Double(seconds.reduce(0) { $0 + $1.processCPUMicros }) / 1e6
        loopCPUSeconds = Double(seconds.reduce(0) { $0 + $1.loopCPUMicros }) / 1e6
        let coreMicros = Double(self.cores) * 1e6
        busySeconds = seconds.filter { Double($0.processCPUMicros) > Self.busyShare * coreMicros || Double($0.busiestLoopCPUMicros) > Self.busyShare * 1e6 }.count
        peakInFlight = seconds.map(\.inFlightPeak).max() ?? 0
        peakWaitingForConnection = seconds.map(\.waitingPeak).max() ?? 0
        peakOpenConnections = seconds.map(\.openConnectionsPeak).max() ?? 0
        warning = nil  // every stored property set, so that the limits below can read them
        let limits = limits
        if !limits.isEmpty {
            warning = "⚠ the harness limited this measurement: " + limits.map(\.text).joined(separator: "; ")
                + ". The lags and slips above include its own queues; the remedies: "
                + Self.remedies(for: limits.map(\.kind), workers: workers, cores: cores, connections: connectionsPerWorker, maxRate: maxRequestsPerSecond).joined(separator: ", ")
        }
    }

    /// What can limit a measurement.
    private enum Limit { case cpu, loopLag, socketWait, lostCore, connections, rateCap }

    /// Below this share of CPU in its long turns, a loop lost its core to something else rather than being slow.
    public static let lostCoreShare = 0.5

    /// What limited the measurement, one phrase each.
    private var limits: [(kind: Limit, text: String)] {
        var limits: [(kind: Limit, text: String)] = []
        if Double(busySeconds) > Self.busySecondsShare * Double(seconds.count) {
            limits.append((.cpu, "CPU: busy (over 85 % of its \(coresPhrase), or a loop thread over 85 % of one) in \(busySeconds) of \(seconds.count) s"))
        }
        if let p99 = loopLag.p99, p99 > Self.loopLagP99BoundMillis {
            limits.append((.loopLag, "loop lag p99 \(NumberText.twoDecimals(p99)) ms (over \(NumberText.short(Self.loopLagP99BoundMillis)) ms)"))
        }
        if let p99 = socketWaitBound?.p99, p99 > Self.loopLagP99BoundMillis {
            let share = longTurnCPUShare.map { " (its thread had the CPU for \(Int(($0 * 100).rounded())) % of its turns over 1 ms)" } ?? ""
            let lostCore = (longTurnCPUShare ?? 1) < Self.lostCoreShare
            limits.append((lostCore ? .lostCore : .socketWait, "busy loop turns: answers may have waited up to \(NumberText.twoDecimals(p99)) ms in their sockets (p99 over time, over \(NumberText.short(Self.loopLagP99BoundMillis)) ms) before the loop read them\(share)"))
        }
        if Double(longConnectionWaits) > Self.longWaitShare * Double(requests) {
            limits.append((.connections, "connections: \(longConnectionWaits) of \(requests) requests waited over 10 ms for one of the \(connectionsPerWorker) per worker (wait p99 \(NumberText.seconds(fromMillis: connectionWait.p99)))"))
        }
        if let cap = maxRequestsPerSecond, let held = rateCapWait, Double(held.count) > Self.longWaitShare * Double(requests) {
            limits.append((.rateCap, "the request-rate cap: it held back \(held.count) of \(requests) requests (\(NumberText.short(cap)) a second here, from --max-rate; wait p99 \(NumberText.seconds(fromMillis: held.p99)))"))
        }
        return limits
    }

    /// How to lift the limits found, by their kind rather than their wording.
    private static func remedies(for kinds: [Limit], workers: Int, cores: Int, connections: Int, maxRate: Double?) -> [String] {
        var remedies: [String] = []
        if kinds.contains(.cpu) || kinds.contains(.loopLag) || kinds.contains(.socketWait) {
            remedies.append(workers < cores ? "more --workers (now \(workers), up to \(cores))" : "shard the run over more machines (--shard)")
        }
        if kinds.contains(.lostCore) {
            remedies.append("keep the loops' cores for them: other processes, or the embedded sandbox (serve it from other cores and give --target), ran there")
        }
        if kinds.contains(.connections) { remedies.append("more --connections (now \(connections))") }
        if kinds.contains(.rateCap) { remedies.append("a higher --max-rate, if the service allows it (\(NumberText.short(maxRate ?? 0)) a second here)") }
        return remedies
    }
}
