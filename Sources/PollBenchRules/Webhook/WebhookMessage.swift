import Foundation

/// A webhook's body: the status document at the change. pollbench's sandbox adds the event's id and
/// type, when the change happened (`occurredAt`), and which delivery this is (`deliveryId`,
/// `deliveryAttempt`); another sender may add none of them, so only `verificationId` and a known
/// `status` are required, and the rest is read when present.
public struct WebhookMessage: Sendable, Equatable {
    /// One id per status change of a session: every copy and retry of it carries the same. Without an
    /// `eventId`, a stable id of the verification and status.
    public var eventID: String
    /// One id per attempt, when the sender gives one.
    public var deliveryID: String?
    /// 1 for the first attempt (and when the sender does not say).
    public var attempt: Int
    public var verificationID: String
    public var status: VerificationStatus
    /// When the status changed, model epoch ms: `occurredAt`, else the status document's time of a
    /// terminal status (``SessionOutcome/serviceTimeField``); nil when the body says none.
    public var occurredMillis: Int64?

    public init(eventID: String, deliveryID: String?, attempt: Int, verificationID: String, status: VerificationStatus, occurredMillis: Int64?) {
        self.eventID = eventID
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.verificationID = verificationID
        self.status = status
        self.occurredMillis = occurredMillis
    }

    /// The status change it announces.
    public var event: WebhookEvent { WebhookEvent(status: status, at: occurredMillis ?? WebhookEvent.unknownTime) }

    /// The event type, e.g. `verification.completed`.
    public var type: String { "verification.\(status.rawValue)" }

    /// The body: these fields first, then the status document's.
    public func encode(statusDocument: [UInt8]) -> [UInt8] {
        var json = JSONObjectWriter()
        json.string("eventId", eventID)
        json.string("type", type)
        if let deliveryID { json.string("deliveryId", deliveryID) }
        json.number("deliveryAttempt", Int64(attempt))
        if let occurredMillis { json.string("occurredAt", ISO8601Millis.format(occurredMillis)) }
        var body = json.finish()
        guard statusDocument.count > 2 else { return body }
        body[body.count - 1] = UInt8(ascii: ",")
        return body + statusDocument.dropFirst()
    }

    /// Reads a body: a JSON object with `verificationId` and a known `status`; nil when it is not one,
    /// or when an optional field is there but malformed (an attempt below 1, an `occurredAt` that is no time).
    public init?(body: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let verificationID = object["verificationId"] as? String, !verificationID.isEmpty,
              let status = (object["status"] as? String).flatMap(VerificationStatus.init(wireText:))
        else { return nil }
        let attempt = object["deliveryAttempt"].map { $0 as? Int ?? 0 } ?? 1
        guard attempt >= 1 else { return nil }
        let present = { (key: String) in object[key].map { !($0 is NSNull) } ?? false }
        let documentTime = SessionOutcome(terminal: status)?.serviceTimeField
        let timeKey = present("occurredAt") ? "occurredAt" : documentTime.flatMap { present($0) ? $0 : nil }
        var occurred: Int64?
        if let timeKey {
            guard let millis = (object[timeKey] as? String).flatMap(ISO8601Millis.parse) else { return nil }  // a time that is no time
            occurred = millis
        }
        self.init(
            eventID: object["eventId"] as? String ?? Self.eventID(verificationID: verificationID, status: status),
            deliveryID: object["deliveryId"] as? String, attempt: attempt, verificationID: verificationID, status: status, occurredMillis: occurred
        )
    }

    /// The event id of a delivery that names none: one per verification and status, as a duplicate of a
    /// status change is one.
    public static func eventID(verificationID: String, status: VerificationStatus) -> String {
        "evt_" + String(format8: StableHash.fnv1a("\(verificationID)/\(status.rawValue)"))
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
