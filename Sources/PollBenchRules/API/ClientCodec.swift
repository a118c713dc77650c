/// The client's side of the API, as every runner speaks it: the requests a session sends, and what their
/// answers mean to its machine (``SessionMachine/Event``). The field names are the ones the sandbox's
/// documents write (``APIField``). Pure: the transport's results come in as status, fields and body.
public struct ClientCodec: Sendable {
    /// The `redirectUri` a create asks for (a redirect flow's browser comes back to it).
    public let redirectURI: String?
    private let verificationsURL: String

    /// - Parameter baseURL: the API's base URL (`…/api/v1` or `…/connect/v1`), without a trailing slash.
    public init(baseURL: String, redirectURI: String?) {
        self.redirectURI = redirectURI
        verificationsURL = baseURL + "/verifications"
    }

    /// A request as the codec writes it; the runner adds its credentials, headers and timeout.
    public struct Request: Sendable, Equatable {
        public var post: Bool
        public var url: String
        /// The JSON body (a create's), or nil.
        public var body: [UInt8]?
        /// Whether the client's credentials go with it (not to the authorization page a browser opens).
        public var authenticated: Bool
    }

    /// The request for `endpoint` of a session that the service knows as `verificationID` (empty before
    /// its create is answered), whose create asked for webhooks at `webhookURL`.
    public func request(
        _ endpoint: Endpoint, providerID: String, verificationID: String?, authorizationURL: String?, webhookURL: String?
    ) -> Request {
        let id = verificationID ?? ""
        switch endpoint {
        case .create:
            var json = JSONObjectWriter()
            json.string(APIField.providerID, providerID)
            json.string(APIField.redirectURI, redirectURI)
            if let webhookURL { json.string(APIField.webhookURL, webhookURL) }
            return Request(post: true, url: verificationsURL, body: json.finish(), authenticated: true)
        case .authorize: return Request(post: false, url: authorizationURL ?? "", body: nil, authenticated: false)
        case .status: return Request(post: false, url: verificationURL(id), body: nil, authenticated: true)
        case .userinfo: return Request(post: false, url: verificationURL(id, "/userinfo"), body: nil, authenticated: true)
        case .evidence: return Request(post: false, url: verificationURL(id, "/evidence"), body: nil, authenticated: true)
        }
    }

    /// A verification's URL and `suffix`, built in one allocation: a status poll's URL is written for every poll.
    private func verificationURL(_ id: String, _ suffix: String = "") -> String {
        var url = verificationsURL
        url.reserveCapacity(verificationsURL.utf8.count + 1 + id.utf8.count + suffix.utf8.count)
        url += "/"
        url += id
        url += suffix
        return url
    }

    /// An answer as the codec reads it: its HTTP status (nil: no response came), the top-level string
    /// fields of a successful JSON document (``documentFields(status:body:)``), its body, and its
    /// `Retry-After` in model milliseconds where it asked for one.
    public struct Answer {
        public var status: Int?
        public var fields: JSONFields.Document?
        public var body: [UInt8]
        public var retryAfterMillis: Int64?

        public init(status: Int?, fields: JSONFields.Document?, body: [UInt8], retryAfterMillis: Int64?) {
            self.status = status
            self.fields = fields
            self.body = body
            self.retryAfterMillis = retryAfterMillis
        }
    }

    /// The string fields of a successful response's JSON document; nil for errors, 204s and bodies that
    /// are not a JSON object.
    public static func documentFields(status: Int, body: [UInt8]) -> JSONFields.Document? {
        guard status < 400, status != 204 else { return nil }
        return JSONFields.document(body)
    }

    /// What the service said a created session is: its id and, for a redirect flow, where the browser goes.
    public struct Created: Sendable, Equatable {
        public var verificationID: String
        public var authorizationURL: String?
    }

    /// The machine's event for a create's answer (sent at model µs `sentMicros`), and the session the
    /// service created, if it did.
    public static func createAnswered(_ answer: Answer, sentMicros: Int64) -> (event: SessionMachine.Event, created: Created?) {
        guard answer.status == 201, let fields = answer.fields, let id = fields[APIField.verificationID] else {
            return (.createAnswered(.rejected(status: answer.status, retryAfterMillis: answer.retryAfterMillis), sentMicros: sentMicros), nil)
        }
        let authorizationURL = fields[APIField.flowType] == FlowType.redirect.rawValue
            ? JSONFields.object(answer.body, field: APIField.flowDetails)?[APIField.authorizationURL] : nil
        let serviceCreated = fields[APIField.createdAt].flatMap(ISO8601Millis.parse)
        return (
            .createAnswered(.created(serviceCreatedMillis: serviceCreated, redirect: authorizationURL != nil), sentMicros: sentMicros),
            Created(verificationID: id, authorizationURL: authorizationURL)
        )
    }

    /// The machine's event for the authorization page's answer: when the browser comes back.
    public static func authorizeAnswered(_ answer: Answer) -> SessionMachine.Event {
        guard answer.status == 200, let fields = answer.fields else { return .authorizeFailed }
        return .authorizeAnswered(returnAtServiceMillis: fields[APIField.returnAt].flatMap(ISO8601Millis.parse))
    }

    /// What a status answer means to the machine, and a status it does not know (counted by the runner).
    public static func statusAnswered(_ answer: Answer) -> (answer: SessionMachine.StatusAnswer, unknownStatus: String?) {
        guard let status = answer.status else { return (.failed, nil) }
        if status == 200, let fields = answer.fields, let text = fields[APIField.status] {
            guard let terminal = VerificationStatus(rawValue: text).flatMap(SessionOutcome.init(terminal:)) else {
                return (.open, openStatuses.contains(text) ? nil : text)
            }
            return (.terminal(terminal, serviceMillis: terminal.serviceTimeField.flatMap { fields[$0] }.flatMap(ISO8601Millis.parse)), nil)
        }
        if status == 404 { return (.notFound, nil) }
        if let retry = answer.retryAfterMillis { return (.retryAfter(millis: retry), nil) }
        return (.failed, nil)
    }

    /// The statuses of a session still open, in both API generations.
    static let openStatuses: Set<String> = Set(VerificationStatus.allCases.filter { !$0.isTerminal }.map(\.rawValue))
        .union([APIGeneration.awaitingUserAction, APIGeneration.authenticating])
}
