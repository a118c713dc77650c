/// Where a request goes: the API under its generation's base path, the redirect flow's page, or nowhere.
struct Route {
    enum Kind: Equatable {
        case api(SandboxEndpoint, id: String?)
        case authorize(id: String)
        case methodNotAllowed(allowed: String)
        case notFound
    }

    let kind: Kind

    init(method: String, path: String, generation: APIGeneration = .apiV1) {
        // Split on the bytes, in place: a path is ASCII in practice, Character iteration made routing
        // costly, and only the id becomes a string of its own.
        var path = path
        kind = path.withUTF8 { bytes in
            Self.resolve(method: method, parts: bytes.split(separator: UInt8(ascii: "/")), base: generation.pathSegments)
        }
    }

    var endpoint: SandboxEndpoint {
        switch kind {
        case .api(let endpoint, _): endpoint
        case .authorize: .authorize
        case .methodNotAllowed, .notFound: .unknown
        }
    }

    private typealias Segment = Slice<UnsafeBufferPointer<UInt8>>

    private static func resolve(method: String, parts: [Segment], base: [String]) -> Kind {
        if parts.count == 2, parts[0].spells("authorize") {
            return method == "GET" ? .authorize(id: parts[1].text) : .methodNotAllowed(allowed: "GET")
        }
        guard parts.count > base.count, parts.starts(with: base, by: { $0.spells($1) }) else { return .notFound }
        let rest = parts[base.count...]
        let first = rest.startIndex
        func only(_ allowed: String, _ endpoint: SandboxEndpoint, _ id: Segment? = nil) -> Kind {
            method == allowed ? .api(endpoint, id: id?.text) : .methodNotAllowed(allowed: allowed)
        }
        if rest.count == 1, rest[first].spells("providers") { return only("GET", .providers) }
        guard rest[first].spells("verifications") else { return .notFound }
        switch rest.count {
        case 1:
            return only("POST", .create)
        case 2:
            switch method {
            case "GET": return .api(.status, id: rest[first + 1].text)
            case "DELETE": return .api(.cancel, id: rest[first + 1].text)
            default: return .methodNotAllowed(allowed: "GET, DELETE")
            }
        case 3 where rest[first + 2].spells("userinfo"): return only("GET", .userinfo, rest[first + 1])
        case 3 where rest[first + 2].spells("evidence"): return only("GET", .evidence, rest[first + 1])
        default: return .notFound
        }
    }
}

private extension Slice<UnsafeBufferPointer<UInt8>> {
    /// Whether these path bytes are `word`'s.
    func spells(_ word: String) -> Bool { elementsEqual(word.utf8) }

    var text: String { String(decoding: self, as: UTF8.self) }
}
