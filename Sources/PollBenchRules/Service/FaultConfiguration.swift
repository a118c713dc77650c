/// Faults the sandbox injects into API responses, each with a rate (0...1 of requests) or a schedule.
public struct FaultConfiguration: Sendable, Codable, Equatable {
    /// Extra wall-clock latency before answering (not time-scaled: it stands for the network and servers).
    public struct Latency: Sendable, Codable, Equatable {
        /// Share of requests delayed.
        public var rate: Double
        /// The delay's distribution, in wall milliseconds.
        public var millis: LogNormal

        public init(rate: Double, millis: LogNormal) {
            self.rate = rate
            self.millis = millis
        }
    }

    /// A provider outage, in model seconds after the sandbox started; creates for it answer 503 / 400005.
    public struct Outage: Sendable, Codable, Equatable {
        /// The provider, or nil for all.
        public var provider: String?
        /// Start, model seconds after start.
        public var fromSeconds: Double
        /// End, model seconds after start.
        public var toSeconds: Double

        public init(provider: String? = nil, fromSeconds: Double, toSeconds: Double) {
            self.provider = provider
            self.fromSeconds = fromSeconds
            self.toSeconds = toSeconds
        }
    }

    /// Added latency.
    public var latency: Latency?
    /// Share answered with a 500/502/503 and no work done.
    public var serverErrorRate: Double = 0
    /// Share whose connection is closed half-way through the response.
    public var closeRate: Double = 0
    /// Share whose JSON body is cut short.
    public var malformedRate: Double = 0
    /// Share whose body trickles out over `dripMillis` wall milliseconds.
    public var dripRate: Double = 0
    /// How long a dripped body takes.
    public var dripMillis: Int = 500
    /// Provider outage windows.
    public var outages: [Outage] = []

    /// No faults.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case latency, serverErrorRate, closeRate, malformedRate, dripRate, dripMillis, outages
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latency = try c.decodeIfPresent(Latency.self, forKey: .latency)
        serverErrorRate = try c.decodeIfPresent(Double.self, forKey: .serverErrorRate) ?? 0
        closeRate = try c.decodeIfPresent(Double.self, forKey: .closeRate) ?? 0
        malformedRate = try c.decodeIfPresent(Double.self, forKey: .malformedRate) ?? 0
        dripRate = try c.decodeIfPresent(Double.self, forKey: .dripRate) ?? 0
        dripMillis = try c.decodeIfPresent(Int.self, forKey: .dripMillis) ?? 500
        outages = try c.decodeIfPresent([Outage].self, forKey: .outages) ?? []
    }

    /// The first problem in these settings, or nil.
    public func problem() -> String? {
        let rates = [serverErrorRate, closeRate, malformedRate, dripRate, latency?.rate ?? 0]
        if rates.contains(where: { !(0...1).contains($0) }) { return "fault rates must be between 0 and 1" }
        if serverErrorRate + closeRate + malformedRate + dripRate > 1 { return "fault rates add up to more than 1" }
        if !(0...60_000).contains(dripMillis) { return "dripMillis must be 0...60000" }
        if outages.contains(where: { !($0.fromSeconds < $0.toSeconds) }) { return "each outage needs fromSeconds < toSeconds" }
        return nil
    }
}
