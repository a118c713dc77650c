import Testing
@testable import PollBenchCore

/// The harness's own health: what its loops record, how they add up, and when it says that it, not
/// the service, limited the measurement.
@Suite("Harness health")
struct HarnessHealthTests {
    /// A loop's recorder over `seconds` wall seconds, one turn per 10 ms, every turn `lagMillis` late, and
    /// `waits` of its `requests` each waiting `waitMillis` for a connection.
    static func recorder(seconds: Int = 10, lagMillis: Int64, requests: Int, waits: Int, waitMillis: Int64) -> HarnessRecorder {
        var recorder = HarnessRecorder(originNanos: 1_000, samplesProcess: false)
        for turn in 0..<(seconds * 100) {
            recorder.turn(at: 1_000 + Int64(turn) * 10_000_000, lagNanos: lagMillis * 1_000_000, inFlight: 3, waiting: 1, openConnections: 2)
        }
        for request in 0..<requests {
            let at = 1_000 + Int64(request) * Int64(seconds) * 1_000_000_000 / Int64(requests)
            recorder.started(at: at, waitedNanos: request < waits ? waitMillis * 1_000_000 : 0)
        }
        return recorder
    }

    @Test("a light run: its figures add up over the loops, and no warning")
    func light() {
        let loops = [Self.recorder(lagMillis: 1, requests: 500, waits: 2, waitMillis: 20), Self.recorder(lagMillis: 2, requests: 500, waits: 0, waitMillis: 0)]
        let health = HarnessHealth(recorders: loops, cores: 2, workers: 2, connectionsPerWorker: 64)
        #expect(health.warning == nil)
        #expect(health.requests == 1_000 && health.longConnectionWaits == 2 && health.connectionWait.count == 2)
        #expect(health.seconds.count == 10 && health.seconds.map(\.second) == Array(0..<10))
        #expect(health.seconds[0].inFlightPeak == 6 && health.seconds[0].openConnectionsPeak == 4)  // each loop's peak added
        #expect(health.seconds[0].loopLagMaxMicros == 2_000)
        #expect(health.loopLag.count == 2_000 && health.loopLag.p99 == 2.0)
    }

    @Test("requests waiting for connections: the warning names connections and the remedy, with the figures")
    func connections() throws {
        let health = HarnessHealth(recorders: [HarnessRecorderFixture.connectionBound()], cores: 2, workers: 1, connectionsPerWorker: 2)
        let warning = try #require(health.warning)
        #expect(warning.hasPrefix("⚠ the harness limited this measurement: connections: 400 of 1000 requests waited over 10 ms for one of the 2 per worker"))
        #expect(warning.contains("more --connections (now 2)") && !warning.contains("--workers"))
    }

    @Test("requests the run's own rate cap held back: over 1 % warn, naming the cap and a higher --max-rate; fewer are counted")
    func rateCap() throws {
        func recorder(held: Int) -> HarnessRecorder {
            var recorder = Self.recorder(lagMillis: 1, requests: 1_000, waits: 0, waitMillis: 0)
            for _ in 0..<held { recorder.heldByRateCap(waitedNanos: 40_000_000) }
            return recorder
        }
        let capped = HarnessHealth(recorders: [recorder(held: 50)], cores: 2, workers: 1, connectionsPerWorker: 64, maxRequestsPerSecond: 100)
        let warning = try #require(capped.warning)
        #expect(warning.hasPrefix("⚠ the harness limited this measurement: the request-rate cap: it held back 50 of 1000 requests (100 a second here, from --max-rate"))
        #expect(warning.contains("a higher --max-rate, if the service allows it (100 a second here)") && !warning.contains("--connections"))
        #expect(capped.rateCapWait?.count == 50 && capped.rateCapWait?.p99 == 40)
        let few = HarnessHealth(recorders: [recorder(held: 5)], cores: 2, workers: 1, connectionsPerWorker: 64, maxRequestsPerSecond: 100)
        #expect(few.warning == nil && few.rateCapWait?.count == 5)
        let none = HarnessHealth(recorders: [recorder(held: 0)], cores: 2, workers: 1, connectionsPerWorker: 64, maxRequestsPerSecond: 100)
        #expect(none.rateCapWait?.count == 0)  // measured, and none held back: a count, not a missing figure
        #expect(HarnessHealth(recorders: [recorder(held: 0)], cores: 2, workers: 1, connectionsPerWorker: 64).rateCapWait == nil)
    }

    @Test("a late loop: the warning names the loop lag and more workers, up to the cores")
    func lateLoop() throws {
        let health = HarnessHealth(recorders: [Self.recorder(lagMillis: 25, requests: 100, waits: 0, waitMillis: 0)], cores: 4, workers: 1, connectionsPerWorker: 64)
        let warning = try #require(health.warning)
        #expect(warning.contains("loop lag p99 25.0") && warning.contains("more --workers (now 1, up to 4)"))
        #expect(!warning.contains("connections:"))
        let atCores = HarnessHealth(recorders: [Self.recorder(lagMillis: 25, requests: 100, waits: 0, waitMillis: 0)], cores: 1, workers: 1, connectionsPerWorker: 64)
        #expect(atCores.warning?.contains("shard the run") == true)
    }

    @Test("busy turns bound how long answers wait unread in their sockets, weighted by time; over 10 ms (p99) they warn")
    func busyTurns() throws {
        func recorder(busyMillis: Int64, cpuMillis: Int64? = nil, waitMillis: Int64) -> HarnessRecorder {
            var recorder = HarnessRecorder(originNanos: 0, samplesProcess: false)
            var at: Int64 = 0
            for _ in 0..<200 {
                at += (busyMillis + waitMillis) * 1_000_000
                let previous = LoopTurnTimes(busyNanos: busyMillis * 1_000_000, busyCPUMicros: (cpuMillis ?? busyMillis) * 1_000, waitNanos: waitMillis * 1_000_000)
                recorder.turn(at: at, lagNanos: nil, previous: previous, inFlight: 0, waiting: 0, openConnections: nil)
            }
            return recorder
        }
        // 2 ms busy in every 20: nine tenths of the time an answer is read at once, the rest within 2 ms.
        let light = HarnessHealth(recorders: [recorder(busyMillis: 2, waitMillis: 18)], cores: 2, workers: 1, connectionsPerWorker: 64)
        let lightBound = try #require(light.socketWaitBound)
        #expect(lightBound.p50 == 0.001 && abs((lightBound.p99 ?? 0) - 2) < 0.01 && light.warning == nil)
        #expect(light.seconds.first?.busyTurnMaxMicros == 2_000)
        // 30 ms busy in every 40: three quarters of the time an answer may wait up to 30 ms.
        let busy = HarnessHealth(recorders: [recorder(busyMillis: 30, waitMillis: 10)], cores: 2, workers: 1, connectionsPerWorker: 64)
        let warning = try #require(busy.warning)
        #expect(warning.contains("busy loop turns: answers may have waited up to 30.0") && warning.contains("more --workers (now 1, up to 2)"))
        #expect(busy.longTurnCPUShare == 1 && warning.contains("its thread had the CPU for 100 % of its turns over 1 ms"))
        // The same turns with the loop on the CPU for a tenth of them: the machine took the core, more loops would not help.
        let robbed = HarnessHealth(recorders: [recorder(busyMillis: 30, cpuMillis: 3, waitMillis: 10)], cores: 2, workers: 1, connectionsPerWorker: 64)
        let robbedWarning = try #require(robbed.warning)
        #expect(robbedWarning.contains("had the CPU for 10 % of its turns") && robbedWarning.contains("keep the loops' cores for them") && !robbedWarning.contains("--workers"))
        // Virtual time has no sockets: nothing is claimed.
        #expect(HarnessHealth(recorders: [Self.recorder(lagMillis: 1, requests: 10, waits: 0, waitMillis: 0)], cores: 2, workers: 1, connectionsPerWorker: 1).socketWaitBound == nil)
    }

    @Test("a loop's CPU time lands in the seconds it was spent in, and the process's only where a loop reads it")
    func cpu() {
        var reader = HarnessRecorder(originNanos: 0, samplesProcess: true)
        var quiet = HarnessRecorder(originNanos: 0, samplesProcess: false)
        for second in 0..<3 {
            var spin: UInt64 = 0
            for i in 0..<2_000_000 { spin &+= UInt64(i) &* 2_654_435_761 }  // CPU for the thread clock to see
            #expect(spin != 1)
            reader.turn(at: Int64(second) * 1_000_000_000, lagNanos: nil, inFlight: 0, waiting: 0, openConnections: nil)
            quiet.turn(at: Int64(second) * 1_000_000_000, lagNanos: nil, inFlight: 0, waiting: 0, openConnections: nil)
        }
        reader.finish(at: 3_000_000_000)
        #expect(reader.seconds.count == 4)
        #expect(reader.seconds[0].loopCPUMicros > 0 && reader.seconds[1].loopCPUMicros > 0)
        // The two clocks are read one after the other and cut to whole µs: the process's may trail by a µs or two.
        let readings: Int64 = 2
        #expect(reader.seconds[0].processCPUMicros >= reader.seconds[0].loopCPUMicros - readings)
        #expect(quiet.seconds.allSatisfy { $0.processCPUMicros == 0 })
        let health = HarnessHealth(recorders: [reader], cores: 2, workers: 1, connectionsPerWorker: 1)
        #expect(health.cpuSeconds > 0 && health.loopCPUSeconds <= health.cpuSeconds + Double(readings * Int64(reader.seconds.count)) / 1e6)
    }
}

/// A loop's recorder whose requests mostly waited for a connection: one that warns.
enum HarnessRecorderFixture {
    static func connectionBound() -> HarnessRecorder {
        HarnessHealthTests.recorder(lagMillis: 0, requests: 1_000, waits: 400, waitMillis: 300)
    }
}
