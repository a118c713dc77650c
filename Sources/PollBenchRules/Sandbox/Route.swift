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
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
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
        guard parts.count > base.count, Array(parts.prefix(base.count)) == base else { return .notFound }
        let rest = Array(parts.dropFirst(base.count))
        func only(_ allowed: String, _ endpoint: SandboxEndpoint, _ id: String? = nil) -> Kind {
            method == allowed ? .api(endpoint, id: id) : .methodNotAllowed(allowed: allowed)
        }
        switch (rest.count, rest[0]) {
        case (1, "providers"): return only("GET", .providers)
        case (1, "verifications"): return only("POST", .create)
        case (2, "verifications"):
            switch method {
            case "GET": return .api(.status, id: rest[1])
            case "DELETE": return .api(.cancel, id: rest[1])
            default: return .methodNotAllowed(allowed: "GET, DELETE")
            }
        case (3, "verifications") where rest[2] == "userinfo": return only("GET", .userinfo, rest[1])
        case (3, "verifications") where rest[2] == "evidence": return only("GET", .evidence, rest[1])
        default: return .notFound
        }
    }
}
