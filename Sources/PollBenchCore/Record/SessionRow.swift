import PollBenchRules

/// One session as `sessions.csv` keeps it: what a client saw of it, enough to fit when its user finished
/// (``UserModelFit``). Times are model milliseconds; those after the create are durations, so the client's
/// and the service's clocks need not agree.
public struct SessionRow: Sendable, Equatable {
    /// The strategy's name.
    public var strategy: String
    public var key: String
    public var provider: String
    /// Whether the flow sent a browser to the provider (`redirect`) or the user acted in an app (`app`).
    public var redirect: Bool
    public var outcome: SessionOutcome
    /// When the (last) create was sent, model ms since the epoch on the client's clock.
    public var createdMillis: Int64
    public var polls: Int
    public var requests: Int
    /// From the service's `createdAt` to its time of the terminal status, where a document or the embedded
    /// sandbox's ground truth tells: the end, exactly.
    public var endAfterMillis: Int64?
    /// From the create to the answer of the last poll that found the session open: the end came later.
    public var openUntilMillis: Int64?
    /// From the create to the answer that showed the terminal status: the end came no later.
    public var seenAfterMillis: Int64?

    public init(
        strategy: String, key: String, provider: String, redirect: Bool, outcome: SessionOutcome, createdMillis: Int64, polls: Int, requests: Int,
        endAfterMillis: Int64?, openUntilMillis: Int64?, seenAfterMillis: Int64?
    ) {
        self.strategy = strategy
        self.key = key
        self.provider = provider
        self.redirect = redirect
        self.outcome = outcome
        self.createdMillis = createdMillis
        self.polls = polls
        self.requests = requests
        self.endAfterMillis = endAfterMillis
        self.openUntilMillis = openUntilMillis
        self.seenAfterMillis = seenAfterMillis
    }

    /// A session's row, under `strategy`.
    public init(_ session: SessionResult, strategy: String) {
        let created = session.createSentMicros
        self.init(
            strategy: strategy, key: session.key, provider: session.providerID, redirect: session.redirect, outcome: session.outcome,
            createdMillis: created / 1_000, polls: session.polls, requests: session.requests,
            endAfterMillis: session.serviceTerminalMillis.flatMap { end in session.serviceCreatedMillis.map { end - $0 } },
            openUntilMillis: session.lastOpenMicros.map { ($0 - created) / 1_000 },
            seenAfterMillis: session.terminalSeenMicros.map { ($0 - created) / 1_000 }
        )
    }
}

/// `sessions.csv`: a row per session, about 90 bytes each, in strategy order, then by create time and key.
public enum SessionsCSV {
    static let header = "strategy,key,provider,flow,outcome,created_ms,polls,requests,end_after_ms,open_until_ms,seen_after_ms"

    /// Every session of `results`, as rows, each with the service's terminal time that its detection lag used.
    public static func rows(_ results: [StrategyResult]) -> [SessionRow] {
        results.flatMap { result in
            var rows: [SessionRow] = []
            rows.reserveCapacity(result.recorder.sessions.count)
            result.recorder.sessions.forEach { session in
                var session = session
                session.serviceTerminalMillis = result.serviceTerminalMillis(session)
                rows.append(SessionRow(session, strategy: result.strategy.name))
            }
            return rows.sorted { ($0.createdMillis, $0.key) < ($1.createdMillis, $1.key) }
        }
    }

    /// The file's text.
    public static func write(_ rows: [SessionRow]) -> String {
        var text = header + "\n"
        text.reserveCapacity(rows.count * 96)
        func field(_ value: Int64?) -> String { value.map(String.init) ?? "" }
        for row in rows {
            // Strategy names contain commas: quoted, as RFC 4180 has it.
            text += "\"\(row.strategy)\",\(row.key),\(row.provider),\(row.redirect ? "redirect" : "app"),\(row.outcome.rawValue),\(row.createdMillis),"
            text += "\(row.polls),\(row.requests),\(field(row.endAfterMillis)),\(field(row.openUntilMillis)),\(field(row.seenAfterMillis))\n"
        }
        return text
    }

    /// Reads the file's text; a failure names the first line that is not a row.
    public static func read(_ text: String) -> Result<[SessionRow], SessionsCSVError> {
        var rows: [SessionRow] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            if number == 0 {
                guard line == header else { return .failure(SessionsCSVError(line: 1, problem: "not a sessions.csv header")) }
                continue
            }
            guard let row = parse(line) else { return .failure(SessionsCSVError(line: number + 1, problem: "not a session row")) }
            rows.append(row)
        }
        return .success(rows)
    }

    private static func parse(_ line: Substring) -> SessionRow? {
        guard line.first == "\"", let close = line.dropFirst().firstIndex(of: "\"") else { return nil }
        let strategy = String(line[line.index(after: line.startIndex)..<close])
        let fields = line[line.index(after: close)...].dropFirst().split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 10, ["app", "redirect"].contains(fields[2]), let outcome = SessionOutcome(rawValue: String(fields[3])),
              let created = Int64(fields[4]), let polls = Int(fields[5]), let requests = Int(fields[6])
        else { return nil }
        func optional(_ field: Substring) -> Int64?? { field.isEmpty ? .some(nil) : Int64(field).map { .some($0) } }
        guard let end = optional(fields[7]), let open = optional(fields[8]), let seen = optional(fields[9]) else { return nil }
        return SessionRow(
            strategy: strategy, key: String(fields[0]), provider: String(fields[1]), redirect: fields[2] == "redirect", outcome: outcome,
            createdMillis: created, polls: polls, requests: requests, endAfterMillis: end, openUntilMillis: open, seenAfterMillis: seen
        )
    }
}

/// A sessions.csv line that cannot be read.
public struct SessionsCSVError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let problem: String
    public var description: String { "line \(line): \(problem)" }
}
