import Foundation
import PollBenchRules

/// How sessions arrive.
public enum ArrivalModel: Sendable, Equatable {
    /// An open model: evenly spaced, this many per model second.
    case constant(perSecond: Double)
    /// An open model: exponential gaps, this many per model second on average.
    case poisson(perSecond: Double)
    /// A closed model: this many sessions in progress; each one that ends starts the next.
    case closed(concurrency: Int)

    /// Parses `constant:5`, `poisson:5` or `closed:100` (rates per model second).
    public init(parsing text: String) throws(WorkloadError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw WorkloadError("arrival '\(text)': expected constant:RATE, poisson:RATE or closed:CONCURRENCY") }
        switch parts[0] {
        case "constant", "poisson":
            guard let rate = Double(parts[1]), rate > 0, rate <= 1_000_000 else { throw WorkloadError("arrival '\(text)': the rate must be a number above 0 and at most 1000000 per second") }
            self = parts[0] == "constant" ? .constant(perSecond: rate) : .poisson(perSecond: rate)
        case "closed":
            guard let concurrency = Int(parts[1]), (1...1_000_000).contains(concurrency) else { throw WorkloadError("arrival '\(text)': the concurrency must be a whole number from 1 to 1000000") }
            self = .closed(concurrency: concurrency)
        default:
            throw WorkloadError("arrival '\(text)': unknown model '\(parts[0])' (known: constant, poisson, closed)")
        }
    }

    /// The canonical spelling.
    public var name: String {
        switch self {
        case .constant(let rate): "constant:\(rate)"
        case .poisson(let rate): "poisson:\(rate)"
        case .closed(let concurrency): "closed:\(concurrency)"
        }
    }
}

/// A workload problem, as one sentence.
public struct WorkloadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// One session of the workload: the same in every strategy's run, so differences are the strategy's alone.
public struct SessionSlot: Sendable, Equatable {
    /// Position in the workload.
    public var index: Int
    /// The workload key sent as `X-Pollbench-Key`: the embedded sandbox draws the user from it.
    public var key: String
    /// The provider to verify with.
    public var providerID: String
    /// Model milliseconds after the run's start (open models), nil for a closed model.
    public var arrivalMillis: Int64?
}

/// What to run: how many sessions, how they arrive and with which providers.
public struct Workload: Sendable, Equatable {
    /// Sessions per strategy.
    public var sessions: Int
    /// The arrival model.
    public var arrival: ArrivalModel
    /// Open models: model seconds over which the rate ramps up linearly from zero (0: no ramp).
    public var rampSeconds: Double
    /// Provider ids with relative weights.
    public var providerMix: [(id: String, weight: Double)]
    /// The seed of arrivals and the provider draw.
    public var seed: UInt64
    /// Run only this shard's slice of the sessions (nil: all of them).
    public var shard: Shard?

    /// The default mix: every provider in the catalogue, the QR and push ones weighted up.
    public static let defaultMix: [(id: String, weight: Double)] = [("bankidse", 3), ("frejaid", 1), ("smartid", 2), ("evrotrust", 1), ("mitid", 1)]

    public init(sessions: Int, arrival: ArrivalModel, rampSeconds: Double = 0, providerMix: [(id: String, weight: Double)] = Workload.defaultMix, seed: UInt64) {
        self.sessions = sessions
        self.arrival = arrival
        self.rampSeconds = rampSeconds
        self.providerMix = providerMix
        self.seed = seed
    }

    public static func == (a: Workload, b: Workload) -> Bool {
        a.sessions == b.sessions && a.arrival == b.arrival && a.rampSeconds == b.rampSeconds && a.seed == b.seed && a.shard == b.shard
            && a.providerMix.map(\.id) == b.providerMix.map(\.id) && a.providerMix.map(\.weight) == b.providerMix.map(\.weight)
    }

    /// Why a provider mix cannot run where only `offered` are offered: one line naming `flag` and the
    /// unknown providers; nil when every one is offered.
    public static func unknownProviders(_ mix: [(id: String, weight: Double)], offered: [String], flag: String) -> String? {
        let unknown = mix.map(\.id).filter { !offered.contains($0) }
        guard !unknown.isEmpty else { return nil }
        return "\(flag): unknown provider\(unknown.count == 1 ? "" : "s") \(unknown.map { "'\($0)'" }.joined(separator: ", ")) (offered: \(offered.joined(separator: ", ")))"
    }

    /// Parses `bankidse=3,smartid=1` (weights are relative).
    public static func parseMix(_ text: String) throws(WorkloadError) -> [(id: String, weight: Double)] {
        var mix: [(id: String, weight: Double)] = []
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
            let weight = pair.count == 2 ? Double(pair[1]) : 1
            guard !pair[0].isEmpty, let weight, weight > 0, weight.isFinite else { throw WorkloadError("provider mix '\(text)': expected ID[=WEIGHT],… with weights above 0") }
            mix.append((pair[0], weight))
        }
        guard !mix.isEmpty else { throw WorkloadError("provider mix is empty") }
        return mix
    }

    /// The sessions, drawn from the seed: the same list every time. A shard keeps the sessions whose key
    /// falls to it, at the times the whole workload gives them (so the arrival rate is divided, and every
    /// session behaves as it would unsharded), numbered from 0 in its own list.
    public func slots() -> [SessionSlot] {
        let all = allSlots()
        guard let shard else { return all }
        return all.filter { shard.owns(key: $0.key) }.enumerated().map { position, slot in
            var mine = slot
            mine.index = position
            return mine
        }
    }

    private func allSlots() -> [SessionSlot] {
        var random = SplitMix64(seed: seed, key: "workload")
        let total = providerMix.reduce(0) { $0 + $1.weight }
        var clock = 0.0
        return (0..<sessions).map { index in
            var draw = random.nextUnit() * total
            let provider = providerMix.first { draw -= $0.weight; return draw < 0 }?.id ?? providerMix[providerMix.count - 1].id
            let gapDraw = random.nextUnit()
            var arrival: Int64?
            switch self.arrival {
            case .constant(let rate):
                arrival = Int64((rampedTime(arrivalsSoFar: Double(index), rate: rate) * 1_000).rounded())
            case .poisson(let rate):
                clock += -log(1 - gapDraw)  // unit-rate exponential gaps, stretched through the ramp below
                arrival = Int64((rampedTime(arrivalsSoFar: clock, rate: rate) * 1_000).rounded())
            case .closed:
                arrival = nil
            }
            return SessionSlot(index: index, key: "s\(seed)-\(index)", providerID: provider, arrivalMillis: arrival)
        }
    }

    /// The model second by which `arrivalsSoFar` sessions have arrived, with the rate ramping linearly
    /// from zero to `rate` over `rampSeconds`.
    func rampedTime(arrivalsSoFar n: Double, rate: Double) -> Double {
        guard rampSeconds > 0 else { return n / rate }
        let duringRamp = rate * rampSeconds / 2
        return n <= duringRamp ? (2 * n * rampSeconds / rate).squareRoot() : rampSeconds + (n - duringRamp) / rate
    }
}

/// One of N shards of a run: which slice of the workload it runs, by session key.
public struct Shard: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    /// 0 to count − 1.
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `K/N` (K from 0 to N − 1).
    public init(parsing text: String) throws(WorkloadError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), (1...1_000).contains(count), (0..<count).contains(index) else {
            throw WorkloadError("shard '\(text)': expected K/N with N from 1 to 1000 and K from 0 to N-1, e.g. 0/4")
        }
        self.init(index: index, count: count)
    }

    /// Whether the session with this workload key is this shard's: a stable hash of the key, so the same
    /// user is in the same shard in every run.
    public func owns(key: String) -> Bool {
        Int(StableHash.fnv1a("shard/" + key) % UInt64(count)) == index
    }

    /// This shard's part of `total` (a closed workload's concurrency): as even as whole numbers allow.
    public func share(of total: Int) -> Int {
        total / count + (index < total % count ? 1 : 0)
    }

    public var description: String { "\(index)/\(count)" }
}
