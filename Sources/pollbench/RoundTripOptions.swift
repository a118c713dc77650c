import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchRules

/// How long each request takes on the wire in a simulation: shared by simulate, tune and plan.
struct RoundTripOptions: ParsableArguments {
    @Option(help: "Every request's round trip, wall time (default 1ms), unless --round-trip-from is given.")
    var roundTrip: String?

    @Option(help: "A live run's directory: draw round trips from its measured status latency from the intended send time (its .hlog), the harness's own slip included.")
    var roundTripFrom: String?

    /// The model the options describe, its draws seeded by `seed`. A fitted model takes the latency from
    /// the intended send time: every poll of a live run is that late, and a simulation whose polls are
    /// not drifts away from the live run's poll phases.
    func model(seed: UInt64) throws -> RoundTrips {
        if let roundTripFrom {
            let contents: RunDirectory.Contents
            do { contents = try RunDirectory.read(URL(fileURLWithPath: roundTripFrom)) } catch { throw CommandFailure(message: error.description) }
            guard let latency = contents.series.first?.histogram(.latency(.status, corrected: true)), latency.totalCount > 0
            else { throw CommandFailure(message: "\(roundTripFrom): no status latency to fit a round-trip model to") }
            return .fitted(latency, seed: seed)
        }
        guard let millis = DurationText.milliseconds(roundTrip ?? "1ms"), millis >= 0 else { throw CommandFailure(message: "--round-trip: bad duration '\(roundTrip ?? "")'") }
        return .constant(.milliseconds(millis))
    }
}
