/// The JSON documents the API returns for a session, exactly in the contract's shapes.
enum SessionDocuments {
    private static let givenNames = ["Astrid", "Lars", "Ingrid", "Mikael", "Eva", "Jonas", "Maja", "Oskar", "Elin", "Karl"]
    private static let familyNames = ["Lindqvist", "Andersson", "Berg", "Nilsson", "Holm", "Dahl", "Strand", "Ek", "Lund", "Falk"]

    /// The simulated user's identity, from the plan's identity seed.
    struct Identity {
        let sub: String, given: String, family: String, birthdate: String, email: String, eid: String

        init(_ session: VerificationSession) {
            var random = SplitMix64(seed: session.plan.identitySeed)
            given = givenNames[Int(random.next() % UInt64(givenNames.count))]
            family = familyNames[Int(random.next() % UInt64(familyNames.count))]
            let year = 1950 + Int64(random.next() % 55), month = 1 + Int64(random.next() % 12), day = 1 + Int64(random.next() % 28)
            birthdate = "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
            email = "\(given.lowercased()).\(family.lowercased())@example.com"
            eid = String(format8: random.next()) + String(format8: random.next() >> 8).prefix(4)
            sub = "\(session.provider.id):\(eid)"
        }
    }

    static func create(_ s: VerificationSession, origin: String) -> [UInt8] {
        var json = JSONObjectWriter()
        json.string(APIField.verificationID, s.id)
        json.string(APIField.status, VerificationStatus.initiated.rawValue)
        json.string(APIField.providerID, s.provider.id)
        json.string(APIField.flowType, s.provider.flowType.rawValue)
        json.raw(APIField.flowDetails, flowDetails(s, origin: origin))
        json.string(APIField.createdAt, s.createdAtText)
        json.string(APIField.expiresAt, s.expiresAtText)
        return json.finish()
    }

    static func flowDetails(_ s: VerificationSession, origin: String) -> [UInt8] {
        var json = JSONObjectWriter()
        switch s.provider.flowType {
        case .qr: json.string("qrData", "\(s.provider.id):///?token=\(uuid(s.id))")
        case .redirect: json.string(APIField.authorizationURL, "\(origin)/authorize/\(s.id)")
        case .push: json.string("displayCode", String(StableHash.fnv1a(s.id) % 9_000 + 1_000))
        }
        return json.finish()
    }

    static func status(_ s: VerificationSession, now: Int64, generation: APIGeneration) -> [UInt8] {
        let terminal = s.terminal(at: now)
        var json = JSONObjectWriter()
        json.string(APIField.verificationID, s.id)
        json.string(APIField.status, generation.statusText(s.lifecycle, at: now))
        json.string(APIField.providerID, s.provider.id)
        json.string(APIField.flowType, s.provider.flowType.rawValue)
        json.string(APIField.createdAt, s.createdAtText)
        json.string(APIField.expiresAt, s.expiresAtText)
        if let terminal, terminal.status == .completed {
            let who = Identity(s)
            json.string(APIField.verifiedAt, ISO8601Millis.format(terminal.at))
            var attributes = JSONObjectWriter()
            attributes.string("sub", who.sub)
            attributes.string("name", "\(who.given) \(who.family)")
            attributes.string("given_name", who.given)
            attributes.string("family_name", who.family)
            attributes.string("birthdate", who.birthdate)
            attributes.string("email", who.email)
            attributes.string("eid", who.eid)
            attributes.string("provider_id", s.provider.id)
            json.raw("verifiedAttributes", attributes.finish())
        } else if let terminal, terminal.status == .failed || terminal.status == .cancelled {
            // The published documents give a failed or cancelled session no time; the sandbox adds when it
            // ended, so that a remote run can measure those sessions' detection lag too.
            json.string(APIField.updatedAt, ISO8601Millis.format(terminal.at))
            if terminal.status == .failed {
                var error = JSONObjectWriter()
                error.string("code", "authentication_failed")
                error.string("message", "The user could not be authenticated by \(s.provider.name).")
                json.raw("error", error.finish())
            }
        }
        return json.finish()
    }

    static func evidence(_ s: VerificationSession) -> [UInt8] {
        var token = JSONObjectWriter()
        var random = SplitMix64(seed: s.plan.identitySeed ^ 0xE71D)
        for key in s.provider.evidenceKeys { token.string(key, String(format8: random.next())) }
        var json = JSONObjectWriter()
        json.raw("token", token.finish())
        json.string("names", s.provider.evidenceKeys.joined(separator: ";"))
        return json.finish()
    }

    static func userinfo(_ s: VerificationSession, verifiedAt: Int64) -> [UInt8] {
        let who = Identity(s)
        var user = JSONObjectWriter()
        user.string("given_name", who.given)
        user.string("family_name", who.family)
        user.string("birthdate", who.birthdate)
        user.string("email", who.email)
        var channel = JSONObjectWriter()
        channel.string("type", s.provider.channel)
        channel.string("transport", s.provider.transport)
        var issuer = JSONObjectWriter()
        issuer.string("id", s.provider.id)
        issuer.string("name", s.provider.name)
        issuer.raw("countries", JSONObjectWriter.stringArray(s.provider.countries))
        var claims = JSONObjectWriter()
        claims.string("given_name", who.given)
        claims.string("family_name", who.family)
        claims.string("birthdate", who.birthdate)
        var credential = JSONObjectWriter()
        credential.string("type", s.provider.id)
        credential.raw("issuer", issuer.finish())
        credential.raw("claims", claims.finish())
        credential.raw("evidence", evidence(s))
        var presentation = JSONObjectWriter()
        presentation.raw("channel", channel.finish())
        presentation.raw("credentials", JSONObjectWriter.array([credential.finish()]))
        var provenance = JSONObjectWriter()
        provenance.raw("presentation", presentation.finish())
        var metadata = JSONObjectWriter()
        metadata.string("verification_id", s.id)
        metadata.string("verified_at", ISO8601Millis.format(verifiedAt))
        var json = JSONObjectWriter()
        json.string("sub", who.sub)
        json.string("acr", "urn:pollbench:acr:\(s.provider.channel)")
        json.string("provider_id", s.provider.id)
        json.raw("user", user.finish())
        json.raw("provenance", provenance.finish())
        json.raw("_metadata", metadata.finish())
        return json.finish()
    }

    static func providers(_ providers: [Provider], active: (Provider) -> Bool) -> [UInt8] {
        JSONObjectWriter.array(providers.map { provider in
            var json = JSONObjectWriter()
            json.string("id", provider.id)
            json.string("name", provider.name)
            json.raw("countries", JSONObjectWriter.stringArray(provider.countries))
            json.bool("isActive", active(provider))
            json.raw("flowTypes", JSONObjectWriter.stringArray([provider.flowType.rawValue]))
            return json.finish()
        })
    }

    /// A UUID-shaped rendering of a 32-hex id.
    static func uuid(_ id: String) -> String {
        let c = Array(id)
        guard c.count == 32 else { return id }
        return "\(String(c[0..<8]))-\(String(c[8..<12]))-\(String(c[12..<16]))-\(String(c[16..<20]))-\(String(c[20..<32]))"
    }
}

extension String {
    /// 16 lowercase hex digits of `value`.
    public init(format8 value: UInt64) {
        let hex = String(value, radix: 16)
        self = String(repeating: "0", count: 16 - hex.count) + hex
    }
}
