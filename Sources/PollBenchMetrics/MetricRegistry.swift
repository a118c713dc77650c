import Foundation
import Synchronization

/// A run's metrics in Prometheus' text exposition format (version 0.0.4): counters, gauges and
/// histograms, each with its label sets, each family's `HELP` and `TYPE` written once, in the order the
/// families were made. What a scrape of a live run needs and no more (a library would be a dependency
/// tree for a hundred lines).
final class MetricRegistry: Sendable {
    private final class Family: Sendable {
        let name: String
        let help: String
        let type: String
        let series = Mutex<[(labels: String, metric: any MetricLines)]>([])

        init(name: String, help: String, type: String) {
            self.name = name
            self.help = help
            self.type = type
        }
    }

    private let families = Mutex<[Family]>([])

    /// A counter of family `name` with `labels`; the same one for the same name and labels.
    func counter(_ name: String, help: String, labels: [(String, String)] = []) -> CounterMetric {
        metric(name, help: help, type: "counter", labels: labels) { CounterMetric() }
    }

    /// A gauge of family `name` with `labels`; the same one for the same name and labels.
    func gauge(_ name: String, help: String, labels: [(String, String)] = []) -> GaugeMetric {
        metric(name, help: help, type: "gauge", labels: labels) { GaugeMetric() }
    }

    /// A histogram of family `name` with `labels` and upper bounds `buckets` (rising); the same one for
    /// the same name and labels.
    func histogram(_ name: String, help: String, labels: [(String, String)] = [], buckets: [Double]) -> HistogramMetric {
        metric(name, help: help, type: "histogram", labels: labels) { HistogramMetric(buckets: buckets) }
    }

    /// Every family, as a scrape reads it.
    func exposition() -> String {
        var text = ""
        for family in families.withLock({ $0 }) {
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.type)\n"
            for (labels, metric) in family.series.withLock({ $0 }) { metric.lines(name: family.name, labels: labels, into: &text) }
        }
        return text
    }

    private func metric<M: MetricLines>(_ name: String, help: String, type: String, labels: [(String, String)], make: () -> M) -> M {
        let family = families.withLock { families in
            if let found = families.first(where: { $0.name == name }) { return found }
            let family = Family(name: name, help: help, type: type)
            families.append(family)
            return family
        }
        let key = labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",")
        return family.series.withLock { series in
            if let found = series.first(where: { $0.labels == key })?.metric as? M { return found }
            let metric = make()
            series.append((key, metric))
            return metric
        }
    }

    /// A label value as the format quotes it.
    private static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// A metric that writes its own sample lines.
protocol MetricLines: AnyObject, Sendable {
    func lines(name: String, labels: String, into text: inout String)
}

/// A sample's label set as written after its name: `{a="1",b="2"}`, or nothing.
private func braced(_ labels: String) -> String {
    labels.isEmpty ? "" : "{\(labels)}"
}

/// A count that only goes up.
final class CounterMetric: MetricLines {
    private let value = Atomic<Int>(0)

    func increment() {
        value.add(1, ordering: .relaxed)
    }

    func lines(name: String, labels: String, into text: inout String) {
        text += "\(name)\(braced(labels)) \(value.load(ordering: .relaxed))\n"
    }
}

/// A value that goes up and down.
final class GaugeMetric: MetricLines {
    private let value = Atomic<Int64>(0)

    func set(_ new: Int64) {
        value.store(new, ordering: .relaxed)
    }

    func add(_ delta: Int64) {
        value.add(delta, ordering: .relaxed)
    }

    func lines(name: String, labels: String, into text: inout String) {
        text += "\(name)\(braced(labels)) \(value.load(ordering: .relaxed))\n"
    }
}

/// Observations counted into cumulative buckets by upper bound, with their sum and count.
final class HistogramMetric: MetricLines {
    private let bounds: [Double]
    private let state: Mutex<(buckets: [Int], sum: Double, count: Int)>

    init(buckets: [Double]) {
        bounds = buckets
        state = Mutex((Array(repeating: 0, count: buckets.count), 0, 0))
    }

    func record(_ value: Double) {
        let bucket = bounds.firstIndex { value <= $0 }
        state.withLock { state in
            if let bucket { state.buckets[bucket] += 1 }
            state.sum += value
            state.count += 1
        }
    }

    func lines(name: String, labels: String, into text: inout String) {
        let (buckets, sum, count) = state.withLock { $0 }
        let prefix = labels.isEmpty ? "" : labels + ","
        var cumulative = 0
        for (bound, inBucket) in zip(bounds, buckets) {
            cumulative += inBucket
            text += "\(name)_bucket{\(prefix)le=\"\(bound)\"} \(cumulative)\n"
        }
        text += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(count)\n"
        text += "\(name)_sum\(braced(labels)) \(sum)\n\(name)_count\(braced(labels)) \(count)\n"
    }
}
