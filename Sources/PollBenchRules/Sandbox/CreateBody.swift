import Foundation

/// Parses a create request's JSON body.
enum CreateBody {
    static func parse(_ body: [UInt8]) -> Result<[String: Any], APIError> {
        guard !body.isEmpty else { return .failure(.missingParameter(APIField.providerID)) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)), let fields = object as? [String: Any] else {
            return .failure(.invalidParameter("The request body is not a JSON object."))
        }
        for name in [APIField.redirectURI, APIField.webhookURL] where fields[name] != nil && !(fields[name] is String) {
            return .failure(.invalidParameter("'\(name)' must be a string."))
        }
        if let url = fields[APIField.webhookURL] as? String, !LoopbackURL.isLoopback(url) {
            return .failure(.invalidParameter("'webhookUrl' must be an http(s) URL on loopback (127.0.0.0/8, ::1, localhost): the sandbox sends nowhere else."))
        }
        if let userData = fields["userData"], !(userData is [String: Any]) {
            return .failure(.invalidParameter("'userData' must be an object."))
        }
        return .success(fields)
    }
}
