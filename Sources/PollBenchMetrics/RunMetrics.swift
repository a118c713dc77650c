import Foundation
import PollBenchCore
import PollBenchRules
import Synchronization

/// A live run's metrics for Prometheus to scrape (``MetricRegistry``), as its engines report them:
/// requests by endpoint and status, sessions, detection lag and request latency histograms, and the
/// harness's own figures. Names follow Prometheus' conventions: the `pollbench_` prefix, base units
/// (seconds), `_total` for counters.
public final class RunMetrics: Sendable {
    private let registry = MetricRegistry()
    private let sessionsStarted: CounterMetric
    private let sessionsActive: GaugeMetric
    private let detectionLag: HistogramMetric
    private let loopLag: HistogramMetric
    private let connectionWait: HistogramMetric
    private let latency: [Endpoint: HistogramMetric]

    /// Model seconds, 20 % apart from 50 ms to 10 minutes: fine enough that `histogram_quantile` lands
    /// within a few per cent of the run's own percentiles.
    static let lagBuckets: [Double] = (0...52).map { 0.05 * pow(1.2, Double($0)) }.map { ($0 * 1e4).rounded() / 1e4 }
    /// Wall seconds, for request latency and the harness's own lags and waits.
    static let wallBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    public init() {
        sessionsStarted = registry.counter("pollbench_sessions_started_total", help: "Sessions that arrived.")
        sessionsActive = registry.gauge("pollbench_sessions_active", help: "Sessions started and not yet ended.")
        detectionLag = registry.histogram(
            "pollbench_detection_lag_seconds",
            help: "Terminal status seen by the client minus reached by the service, model seconds (only when the service's clock is the client's).",
            buckets: Self.lagBuckets
        )
        loopLag = registry.histogram("pollbench_loop_lag_seconds", help: "How late an engine loop's turn ran for its earliest due timer.", buckets: Self.wallBuckets)
        connectionWait = registry.histogram("pollbench_connection_wait_seconds", help: "How long a request waited for a free connection.", buckets: Self.wallBuckets)
        var latency: [Endpoint: HistogramMetric] = [:]
        for endpoint in Endpoint.allCases {
            latency[endpoint] = registry.histogram(
                "pollbench_request_duration_seconds", help: "Request latency from the actual send to the answer.", labels: [("endpoint", endpoint.rawValue)],
                buckets: Self.wallBuckets
            )
        }
        self.latency = latency
    }

    /// What worker `index`'s engine reports into.
    public func worker(_ index: Int) -> any LiveMetricsSink {
        WorkerMetrics(run: self, worker: index)
    }

    /// The scrape: every metric, and the process's CPU seconds read now.
    public func exposition() -> String {
        registry.exposition() + "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\n"
            + "process_cpu_seconds_total \(Double(CPUClock.processMicros()) / 1e6)\n"
    }

    fileprivate func answered(_ endpoint: Endpoint, latencyMicros: Int64) {
        latency[endpoint]?.record(Double(latencyMicros) / 1e6)
    }

    fileprivate func sessionStarted() {
        sessionsStarted.increment()
        sessionsActive.add(1)
    }

    fileprivate func sessionEnded(detectionLagMicros: Int64?) {
        sessionsActive.add(-1)
        if let detectionLagMicros { detectionLag.record(Double(detectionLagMicros) / 1e6) }
    }

    fileprivate func loopTurned(lagMicros: Int64?) {
        if let lagMicros { loopLag.record(Double(lagMicros) / 1e6) }
    }

    fileprivate func waitedForConnection(micros: Int64) {
        connectionWait.record(Double(micros) / 1e6)
    }

    fileprivate func counter(_ name: String, _ labels: [(String, String)], help: String) -> CounterMetric {
        registry.counter(name, help: help, labels: labels)
    }

    fileprivate func gauge(_ name: String, worker: Int, help: String) -> GaugeMetric {
        registry.gauge(name, help: help, labels: [("worker", String(worker))])
    }
}

/// One engine's view of the run's metrics: its counters by label set are looked up once and kept, and
/// its loop's state is its own gauges (labelled by worker; sum them for the process).
private final class WorkerMetrics: LiveMetricsSink {
    private let run: RunMetrics
    private let requests = Mutex<[String: CounterMetric]>([:])
    private let ended = Mutex<[SessionOutcome: CounterMetric]>([:])
    private let inFlight: GaugeMetric
    private let waiting: GaugeMetric
    private let open: GaugeMetric

    init(run: RunMetrics, worker: Int) {
        self.run = run
        inFlight = run.gauge("pollbench_requests_in_flight", worker: worker, help: "Requests sent or waiting for a connection, not yet answered.")
        waiting = run.gauge("pollbench_requests_waiting_for_connection", worker: worker, help: "Requests waiting for a free connection.")
        open = run.gauge("pollbench_connections_open", worker: worker, help: "Connections the engine's libcurl holds open.")
    }

    func answered(_ endpoint: Endpoint, status: String, latencyMicros: Int64) {
        let key = endpoint.rawValue + " " + status
        let counter = requests.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = run.counter("pollbench_requests_total", [("endpoint", endpoint.rawValue), ("status", status)], help: "Requests answered, by endpoint and status (transport:KIND without a response).")
            cache[key] = counter
            return counter
        }
        counter.increment()
        run.answered(endpoint, latencyMicros: latencyMicros)
    }

    func sessionStarted() {
        run.sessionStarted()
    }

    func sessionEnded(_ outcome: SessionOutcome, detectionLagMicros: Int64?) {
        let counter = ended.withLock { cache in
            if let counter = cache[outcome] { return counter }
            let counter = run.counter("pollbench_sessions_ended_total", [("outcome", outcome.rawValue)], help: "Sessions ended, by outcome.")
            cache[outcome] = counter
            return counter
        }
        counter.increment()
        run.sessionEnded(detectionLagMicros: detectionLagMicros)
    }

    func loopTurned(lagMicros: Int64?, inFlight: Int, waitingForConnection: Int, openConnections: Int?) {
        run.loopTurned(lagMicros: lagMicros)
        self.inFlight.set(Int64(inFlight))
        waiting.set(Int64(waitingForConnection))
        if let openConnections { open.set(Int64(openConnections)) }
    }

    func waitedForConnection(micros: Int64) {
        run.waitedForConnection(micros: micros)
    }
}
