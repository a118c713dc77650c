import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchCurl
import PollBenchRules

/// The client half of the transport benchmark: keeps `--connections` GETs in flight against one URL
/// for `--duration` seconds (a closed loop, as wrk does), then prints one JSON line with the request
/// count and the process's CPU seconds. Loopback targets only.
@main
struct TransportBench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Closed-loop GET load through pollbench's libcurl transport.")

    @Option(help: "The URL to GET (loopback only).")
    var url: String

    @Option(help: "Requests kept in flight (HTTP/1.1: one connection each).")
    var connections = 64

    @Option(help: "Seconds to run (1 to 600).")
    var duration = 5.0

    @Option(help: "Worker threads.")
    var workers = 1

    @Option(help: "HTTP version: 1.1, 2 or auto.")
    var http = "auto"

    @Option(help: "Most HTTP/2 streams per connection before another is opened.")
    var streams = CurlTransportConfiguration.defaultStreamsPerConnection

    @Option(help: "A CA bundle to verify an https URL with.")
    var caBundle: String?

    func validate() throws {
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections must be 1...10000") }
        guard (1...600).contains(duration) else { throw ValidationError("--duration must be 1...600 seconds") }
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be 1...64") }
        guard (1...10_000).contains(streams) else { throw ValidationError("--streams must be 1...10000") }
        guard HTTPVersionChoice(rawValue: http) != nil else { throw ValidationError("--http must be 1.1, 2 or auto") }
        guard LoopbackURL.isLoopback(url) else { throw ValidationError("--url must be a loopback http(s) URL") }
    }

    func run() throws {
        let perWorker = max(1, connections / workers)
        let deadline = ContinuousClock.now + .seconds(duration)
        let request = HTTPRequest(url: url, timeout: .seconds(10))
        let cpuBefore = CPUTime.processSeconds()
        let started = ContinuousClock.now
        let counts = try CurlTransport.run(
            configuration: CurlTransportConfiguration(
                workers: workers, connectionsPerWorker: perWorker, caBundlePath: caBundle, httpVersion: HTTPVersionChoice(rawValue: http) ?? .auto,
                streamsPerConnection: streams
            ),
            makeDriver: { _ in ClosedLoopDriver(request: request, inFlight: perWorker, deadline: deadline) },
            collect: { $0.counts }
        )
        let elapsed = ContinuousClock.now - started
        let cpu = CPUTime.processSeconds() - cpuBefore
        let total = counts.reduce(into: ClosedLoopDriver.Counts()) { $0.add($1) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(#"{"requests":\#(total.ok + total.failed),"ok":\#(total.ok),"failed":\#(total.failed),"non2xx":\#(total.non2xx),"seconds":\#(seconds),"cpu_seconds":\#(cpu)}"#)
    }
}

/// Keeps a fixed number of requests in flight until the deadline.
final class ClosedLoopDriver: TransportLoopDriver {
    struct Counts: Sendable {
        var ok = 0
        var failed = 0
        var non2xx = 0

        mutating func add(_ other: Counts) {
            ok += other.ok
            failed += other.failed
            non2xx += other.non2xx
        }
    }

    private let request: HTTPRequest
    private let inFlight: Int
    private let deadline: ContinuousClock.Instant
    private(set) var counts = Counts()

    init(request: HTTPRequest, inFlight: Int, deadline: ContinuousClock.Instant) {
        self.request = request
        self.inFlight = inFlight
        self.deadline = deadline
    }

    func loopDidStart(_ loop: any TransportLoop) {
        for tag in 0..<inFlight { loop.submit(request, tag: tag) }
    }

    func requestDidFinish(tag: Int, result: HTTPResult, loop: any TransportLoop) {
        switch result {
        case .success(let response):
            counts.ok += 1
            if !(200..<300).contains(response.status) { counts.non2xx += 1 }
        case .failure:
            counts.failed += 1
        }
        if ContinuousClock.now < deadline { loop.submit(request, tag: tag) }
    }

    func turn(_ loop: any TransportLoop) -> LoopTurn {
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return .finished }
        return .wait(nanoseconds: left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
    }
}

/// The process's user plus system CPU time.
enum CPUTime {
    static func processSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }
}
