import Synchronization

/// What the receiver made of one delivery.
public enum WebhookReceipt: String, Sendable, CaseIterable, Codable {
    /// Signed, fresh, readable and new: passed on to its session.
    case accepted
    /// No signature, or none that matches: forged, or signed with another secret.
    case badSignature = "bad-signature"
    /// Signed, but its timestamp is outside the tolerance.
    case stale
    /// The very delivery (timestamp and signature) seen before: a replay.
    case replayed
    /// Signed, but not a webhook document.
    case malformed
    /// Larger than the receiver accepts.
    case tooLarge = "too-large"

    /// The HTTP status the receiver answers with: 2xx only for a delivery taken.
    public var httpStatus: Int {
        switch self {
        case .accepted: 200
        case .badSignature, .stale, .malformed: 400
        case .replayed: 409
        case .tooLarge: 413
        }
    }
}

/// One delivery as it reaches a session's engine: its route, what the receiver made of it, and the
/// message when it was accepted.
public struct WebhookDelivery: Sendable, Equatable {
    public var route: WebhookRoute
    public var receipt: WebhookReceipt
    public var message: WebhookMessage?
    /// When the receiver took it (a live receiver stamps it, so the engine can tell how long it waited).
    public var received: ContinuousClock.Instant?

    public init(route: WebhookRoute, receipt: WebhookReceipt, message: WebhookMessage?) {
        self.route = route
        self.receipt = receipt
        self.message = message
    }
}

/// pollbench's webhook receiver, free of any server library: checks the size, the signature (constant
/// time, the timestamp within the tolerance), replays and the document, and says what to answer and what
/// to pass on. Thread safe: the live server calls it from its event loops, the engine simulation from its
/// own. The secrets are kept as bytes and appear in no output.
public final class WebhookReceiver: Sendable {
    /// The answer to a delivery and, when its path names a session, the delivery to pass on.
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var delivery: WebhookDelivery?
    }

    private let secrets: [[UInt8]]
    private let toleranceSeconds: Int64
    public let maxBodyBytes: Int
    private let state = Mutex(State())

    private struct State {
        /// Signatures taken, with their timestamps: a replay within the tolerance is refused; older ones
        /// are refused as stale anyway, so they are forgotten.
        var seen: [String: Int64] = [:]
        var counts = WebhookReceiverCounts()
        /// The running round and its sessions per worker: the routes that name a session.
        var round = -1
        var sessionsPerWorker: [Int] = []
    }

    public init(secrets: [String], toleranceSeconds: Int64 = 300, maxBodyBytes: Int = 64 * 1024) {
        self.secrets = secrets.map { Array($0.utf8) }
        self.toleranceSeconds = toleranceSeconds
        self.maxBodyBytes = maxBodyBytes
    }

    /// Routes deliveries to a new round: `sessionsPerWorker[w]` sessions on worker `w`. Deliveries for
    /// an earlier round are answered and counted, and reach no session.
    public func open(round: Int, sessionsPerWorker: [Int]) {
        state.withLock { state in
            state.round = round
            state.sessionsPerWorker = sessionsPerWorker
        }
    }

    /// Takes one delivery to `path` at model ms `nowMillis`. The answer's delivery is nil when the path
    /// names no session of the running round (its round is over, or the path is made up).
    /// - Parameter body: nil when it was larger than ``maxBodyBytes`` (a server stops reading there).
    public func receive(path: String, signature: String?, body: [UInt8]?, nowMillis: Int64) -> Answer {
        let (receipt, message) = examine(signature: signature, body: body, nowSeconds: nowMillis / 1_000)
        let route = state.withLock { state in
            state.counts.received += 1
            state.counts.receipts[receipt.rawValue, default: 0] += 1
            let route = WebhookRoute(path: path).flatMap { route in
                route.round == state.round && route.worker < state.sessionsPerWorker.count && route.session < state.sessionsPerWorker[route.worker] ? route : nil
            }
            if route == nil { state.counts.unroutable += 1 }
            return route
        }
        return Answer(status: receipt.httpStatus, delivery: route.map { WebhookDelivery(route: $0, receipt: receipt, message: message) })
    }

    /// Every delivery so far, by what became of it.
    public var counts: WebhookReceiverCounts { state.withLock { $0.counts } }

    private func examine(signature: String?, body: [UInt8]?, nowSeconds: Int64) -> (WebhookReceipt, WebhookMessage?) {
        guard let body, body.count <= maxBodyBytes else { return (.tooLarge, nil) }
        let verified: String
        switch WebhookSignature.verify(header: signature, body: body, secrets: secrets, nowSeconds: nowSeconds, toleranceSeconds: toleranceSeconds) {
        case .failure(.stale): return (.stale, nil)
        case .failure: return (.badSignature, nil)
        case .success(let mac): verified = mac
        }
        let fresh = state.withLock { state in
            if state.seen.count >= 100_000 { state.seen = state.seen.filter { nowSeconds - $0.value <= toleranceSeconds } }
            return state.seen.updateValue(nowSeconds, forKey: verified) == nil
        }
        guard fresh else { return (.replayed, nil) }
        guard let message = WebhookMessage(body: body) else { return (.malformed, nil) }
        return (.accepted, message)
    }
}

/// The receiver's counts over the whole run: every delivery, whichever session it was for.
public struct WebhookReceiverCounts: Sendable, Codable, Equatable {
    /// Deliveries received.
    public var received = 0
    /// By ``WebhookReceipt``.
    public var receipts: [String: Int] = [:]
    /// Whose path named no session of the running round.
    public var unroutable = 0

    public init() {}
}
