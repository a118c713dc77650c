import Foundation

/// A webhook's body: the status document at the change, with the event's id and type, when the change
/// happened (`occurredAt`), and which delivery this is (`deliveryId`, `deliveryAttempt`).
public struct WebhookMessage: Sendable, Equatable {
    /// One id per status change of a session: every copy and retry of it carries the same.
    public var eventID: String
    /// One id per attempt.
    public var deliveryID: String
    /// 1 for the first attempt.
    public var attempt: Int
    public var verificationID: String
    public var status: VerificationStatus
    /// When the status changed, model epoch ms.
    public var occurredMillis: Int64

    public init(eventID: String, deliveryID: String, attempt: Int, verificationID: String, status: VerificationStatus, occurredMillis: Int64) {
        self.eventID = eventID
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.verificationID = verificationID
        self.status = status
        self.occurredMillis = occurredMillis
    }

    /// The status change it announces.
    public var event: WebhookEvent { WebhookEvent(status: status, at: occurredMillis) }

    /// The event type, e.g. `verification.completed`.
    public var type: String { "verification.\(status.rawValue)" }

    /// The body: these fields first, then the status document's.
    public func encode(statusDocument: [UInt8]) -> [UInt8] {
        var json = JSONObjectWriter()
        json.string("eventId", eventID)
        json.string("type", type)
        json.string("deliveryId", deliveryID)
        json.number("deliveryAttempt", Int64(attempt))
        json.string("occurredAt", ISO8601Millis.format(occurredMillis))
        var body = json.finish()
        guard statusDocument.count > 2 else { return body }
        body[body.count - 1] = UInt8(ascii: ",")
        return body + statusDocument.dropFirst()
    }

    /// Reads a body; nil when it is not such a document.
    public init?(body: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let eventID = object["eventId"] as? String, let deliveryID = object["deliveryId"] as? String,
              let attempt = object["deliveryAttempt"] as? Int, attempt >= 1,
              let verificationID = object["verificationId"] as? String,
              let status = (object["status"] as? String).flatMap(VerificationStatus.init(wireText:)),
              let occurred = (object["occurredAt"] as? String).flatMap(ISO8601Millis.parse)
        else { return nil }
        self.init(eventID: eventID, deliveryID: deliveryID, attempt: attempt, verificationID: verificationID, status: status, occurredMillis: occurred)
    }

    /// The event id of a session's status change: the same in every copy and retry.
    public static func eventID(verificationID: String, event: WebhookEvent) -> String {
        "evt_" + String(format8: StableHash.fnv1a("\(verificationID)/\(event.status.rawValue)/\(event.at)"))
    }
}

/// Where a delivery goes: the webhook URL pollbench gives each session ends in `/ROUND/WORKER/SESSION`,
/// so a delivery reaches its session's engine without a lookup, even before the create's answer.
public struct WebhookRoute: Sendable, Equatable {
    public var round: Int
    public var worker: Int
    public var session: Int

    public init(round: Int, worker: Int, session: Int) {
        self.round = round
        self.worker = worker
        self.session = session
    }

    /// The route at the end of `path`; nil when its last three segments are not numbers.
    public init?(path: String) {
        let segments = path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
        guard segments.count >= 3, let round = Int(segments[segments.count - 3]), let worker = Int(segments[segments.count - 2]),
              let session = Int(segments[segments.count - 1]), round >= 0, worker >= 0, session >= 0 else { return nil }
        self.init(round: round, worker: worker, session: session)
    }

    /// This route under a base URL.
    public func url(base: String) -> String { "\(base)/\(round)/\(worker)/\(session)" }
}
