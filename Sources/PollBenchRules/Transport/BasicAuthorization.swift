import Foundation

/// HTTP Basic authentication (RFC 7617) as the client sends it and the sandbox expects it.
public enum BasicAuthorization {
    /// The `Authorization` header's value for a client id and secret: `Basic` and their base64.
    public static func value(id: String, secret: String) -> String {
        "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
    }
}
