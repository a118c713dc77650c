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
        // Split on the bytes: a path is ASCII in practice, and Character iteration is what made routing costly.
        let parts = path.utf8.split(separator: UInt8(ascii: "/")).map { String(Substring($0)) }
        kind = Self.resolve(method: method, parts: parts, base: generation.pathSegments)
    }

    var endpoint: SandboxEndpoint {
        switch kind {
        case .api(let endpoint, _): endpoint
        case .authorize: .authorize
        case .methodNotAllowed, .notFound: .unknown
        }
    }

    private static func resolve(method: String, parts: [String], base: [String]) -> Kind {
        if parts.count == 2, parts[0] == "authorize" {
            return method == "GET" ? .authorize(id: parts[1]) : .methodNotAllowed(allowed: "GET")
        }
        guard parts.count > base.count, parts.starts(with: base) else { return .notFound }
        let rest = parts[base.count...]
        func only(_ allowed: String, _ endpoint: SandboxEndpoint, _ id: String? = nil) -> Kind {
            method == allowed ? .api(endpoint, id: id) : .methodNotAllowed(allowed: allowed)
        }
        let first = rest.startIndex
        switch (rest.count, rest[first]) {
        case (1, "providers"): return only("GET", .providers)
        case (1, "verifications"): return only("POST", .create)
        case (2, "verifications"):
            switch method {
            case "GET": return .api(.status, id: rest[first + 1])
            case "DELETE": return .api(.cancel, id: rest[first + 1])
            default: return .methodNotAllowed(allowed: "GET, DELETE")
            }
        case (3, "verifications") where rest[first + 2] == "userinfo": return only("GET", .userinfo, rest[first + 1])
        case (3, "verifications") where rest[first + 2] == "evidence": return only("GET", .evidence, rest[first + 1])
        default: return .notFound
        }
    }
}
