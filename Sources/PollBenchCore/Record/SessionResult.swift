import PollBenchRules

/// One session's result, kept until the run ends so that detection lag can use the service's ground truth.
public struct SessionResult: Sendable, Codable, Equatable {
    public var key: String
    public var providerID: String
    public var verificationID: String?
    public var outcome: SessionOutcome
    public var polls: Int
    /// Model µs (epoch) when the create request was sent.
    public var createSentMicros: Int64
    /// Model µs (epoch) when the client received the terminal status; nil if it never did.
    public var terminalSeenMicros: Int64?
    /// Model ms (epoch) at which the service says it reached the terminal status, where its documents tell
    /// (`verifiedAt`, `expiresAt`); the embedded sandbox's ground truth fills in the rest.
    public var serviceTerminalMillis: Int64?
    /// The service's `createdAt` (model ms) and when the create response arrived (model µs): with
    /// ``createSentMicros`` they bound the offset between the service's clock and the client's.
    public var serviceCreatedMillis: Int64?
    public var createReceivedMicros: Int64?
    /// Model µs (epoch) when the last poll that found the session open was answered; nil if none did.
    public var lastOpenMicros: Int64? = nil
    /// Requests the session sent.
    public var requests = 0
    /// Whether the flow sent a browser to the provider (which then tells when the user comes back).
    public var redirect = false
}

extension SessionResult {
    /// One session's record as the machine that ran it leaves it.
    public init(key: String, providerID: String, verificationID: String?, outcome: SessionOutcome, machine: SessionMachine) {
        self.key = key
        self.providerID = providerID
        self.verificationID = verificationID
        self.outcome = outcome
        polls = machine.polls
        createSentMicros = machine.createSentMicros
        terminalSeenMicros = machine.terminalSeenMicros
        serviceTerminalMillis = machine.serviceTerminalMillis
        serviceCreatedMillis = machine.serviceCreatedMillis
        createReceivedMicros = machine.createReceivedMicros
        lastOpenMicros = machine.lastOpenMicros
        requests = Int(machine.requests)
        redirect = machine.isRedirect
    }

    /// The service's clock minus the client's (µs); nil when unknown. See ``SessionMachine/clockOffsetMicros``.
    public var clockOffsetMicros: Int64? {
        SessionMachine.clockOffsetMicros(serviceCreatedMillis: serviceCreatedMillis, sentMicros: createSentMicros, receivedMicros: createReceivedMicros)
    }

    /// The service-minus-client offsets (µs) this create allows: the service stamped `createdAt` (whole
    /// milliseconds, rounded down) at some instant between sending and receiving; nil when unknown.
    public var clockOffsetBounds: ClosedRange<Int64>? {
        guard let created = serviceCreatedMillis, let received = createReceivedMicros, received >= createSentMicros else { return nil }
        return (created * 1_000 - received)...(created * 1_000 + 999 - createSentMicros)
    }
}

/// A strategy's ended sessions, kept until the run ends so that detection lag can use the service's
/// ground truth and sessions.csv can list them; a live run spools them to disk as they end.
public typealias SessionLog = SpoolLog<SessionResult>

extension SessionResult: Spoolable {
    /// The result as one spool record: its fields in a fixed order, integers big-endian, a string as its
    /// UTF-8 length and bytes, an absent value as a zero flag byte.
    public var spooled: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96)
        func put(_ value: Int64?) {
            out.append(value == nil ? 0 : 1)
            if let value { BigEndian.put(value, into: &out) }
        }
        func put(_ text: String?) {
            out.append(text == nil ? 0 : 1)
            guard let text else { return }
            BigEndian.put(Int64(text.utf8.count), into: &out)
            out += text.utf8
        }
        put(key)
        put(providerID)
        put(verificationID)
        out.append(UInt8(SessionOutcome.allCases.firstIndex(of: outcome)!))
        out.append(redirect ? 1 : 0)
        for value in [Int64(polls), Int64(requests), createSentMicros] { BigEndian.put(value, into: &out) }
        for value in [terminalSeenMicros, serviceTerminalMillis, serviceCreatedMillis, createReceivedMicros, lastOpenMicros] { put(value) }
        return out
    }

    /// Reads a record that ``spooled`` wrote; nil when it is not one.
    public init?(spooled record: ArraySlice<UInt8>) {
        var reader = BigEndian.Reader(record)
        func optional() -> Int64?? {
            switch reader.byte() {
            case 0: .some(nil)
            case 1: reader.int64().map { .some($0) }
            default: nil
            }
        }
        func text() -> String?? {
            switch reader.byte() {
            case 0: return .some(nil)
            case 1: return reader.int64().flatMap { reader.take(Int(clamping: $0)) }.flatMap { String(validating: $0, as: UTF8.self) }.map { .some($0) }
            default: return nil
            }
        }
        guard let key = text() ?? nil, let providerID = text() ?? nil, let verificationID = text(),
              let outcome = reader.byte().flatMap({ SessionOutcome.allCases.indices.contains(Int($0)) ? SessionOutcome.allCases[Int($0)] : nil }),
              let redirect = reader.byte(), let polls = reader.int64(), let requests = reader.int64(), let createSent = reader.int64(),
              let terminalSeen = optional(), let serviceTerminal = optional(), let serviceCreated = optional(), let createReceived = optional(),
              let lastOpen = optional(), reader.isAtEnd
        else { return nil }
        self.init(
            key: key, providerID: providerID, verificationID: verificationID, outcome: outcome, polls: Int(polls), createSentMicros: createSent,
            terminalSeenMicros: terminalSeen, serviceTerminalMillis: serviceTerminal, serviceCreatedMillis: serviceCreated,
            createReceivedMicros: createReceived, lastOpenMicros: lastOpen, requests: Int(requests), redirect: redirect == 1
        )
    }
}
