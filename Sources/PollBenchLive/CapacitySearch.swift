import PollBenchCore
import PollBenchRules

/// A capacity search: the suite run live at each arrival rate in turn until a threshold fails; the knee
/// is the highest rate that met every threshold. A rate at which the harness limited its own measurement
/// (its CPU, loop lag or connection waits) ends the search too: what breaks from there is pollbench on
/// this machine, not the target, and the knee found so far is only a lower bound of the target's.
public struct CapacitySearch: Sendable {
    /// The run every step starts from.
    public let base: RunSettings
    /// The arrival rates tried, lowest first (sessions per model second).
    public let rates: [Double]

    /// What the search found.
    public struct Result: Sendable, Equatable {
        /// The highest rate that met every threshold with the harness unbound; nil: none did.
        public var knee: Double?
        /// The rate at which the harness warned that it limited the run, where the search stopped.
        public var harnessBound: Double?
        /// Whether a signal stopped a step's run (its partial results are written; the search ends).
        public var interrupted = false
    }

    /// A search over `rates` from `base`.
    /// - Throws: ``LiveRunFailure`` (exit 2), before any run, when the arrival model is closed: a rate means nothing there.
    public init(base: RunSettings, rates: [Double]) throws(LiveRunFailure) {
        if case .closed = base.workload.arrival {
            throw LiveRunFailure(message: "a capacity search needs an open arrival model (constant or poisson)", exitCode: 2)
        }
        self.base = base
        self.rates = rates
    }

    /// The run of the step at `rate`: the base's, with that arrival rate (and, with a step length, that
    /// many seconds' sessions), named after it.
    public func settings(at rate: Double) -> RunSettings {
        var settings = base
        settings.suite = base.suite.capacityStep(at: rate)
        settings.name = "\(base.name)-rate\(rate)"
        return settings
    }

    /// Runs the steps in order with `step` (which runs one live and returns its record and whether a
    /// signal stopped it) until one fails a threshold, is harness-bound or is interrupted.
    public func execute(_ step: (Double, RunSettings) async throws -> (record: RunRecord, interrupted: Bool)) async rethrows -> Result {
        var result = Result()
        for rate in rates {
            let (record, interrupted) = try await step(rate, settings(at: rate))
            if interrupted {
                result.interrupted = true
                break
            }
            if record.harness?.warning != nil {
                result.harnessBound = rate
                break
            }
            guard !record.fails else { break }
            result.knee = rate
        }
        return result
    }
}
