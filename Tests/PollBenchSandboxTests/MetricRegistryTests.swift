@testable import PollBenchMetrics
import Testing

@Suite("The live metrics in Prometheus' text format")
struct MetricRegistryTests {
    @Test("families in the order made, HELP and TYPE once each; label sets apart and escaped; histogram buckets cumulative with +Inf, sum and count")
    func exposition() {
        let registry = MetricRegistry()
        let ok = registry.counter("x_total", help: "X.", labels: [("status", "200")])
        let odd = registry.counter("x_total", help: "X.", labels: [("status", "a\"b")])
        ok.increment()
        ok.increment()
        odd.increment()
        #expect(registry.counter("x_total", help: "X.", labels: [("status", "200")]) === ok)
        let gauge = registry.gauge("g", help: "G.")
        gauge.set(5)
        gauge.add(-2)
        let histogram = registry.histogram("h_seconds", help: "H.", buckets: [0.125, 1])
        for value in [0.0625, 0.5, 0.75, 3] { histogram.record(value) }
        #expect(registry.exposition() == """
            # HELP x_total X.
            # TYPE x_total counter
            x_total{status="200"} 2
            x_total{status="a\\"b"} 1
            # HELP g G.
            # TYPE g gauge
            g 3
            # HELP h_seconds H.
            # TYPE h_seconds histogram
            h_seconds_bucket{le="0.125"} 1
            h_seconds_bucket{le="1.0"} 3
            h_seconds_bucket{le="+Inf"} 4
            h_seconds_sum 4.3125
            h_seconds_count 4

            """)
    }
}
