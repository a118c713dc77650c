import Foundation

/// The `X-Hopae-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, as
/// Stripe signs its webhooks. Several `v1` values may come (a secret being rotated); one matching is enough.
public enum WebhookSignature {
    /// The header's name.
    public static let header = "X-Hopae-Signature"

    /// The header value for `body` sent at `timestamp` (unix seconds), keyed by `secret`.
    public static func sign(body: [UInt8], timestamp: Int64, secret: String) -> String {
        "t=\(timestamp),v1=\(hex(mac(body: body, timestamp: timestamp, secret: Array(secret.utf8))))"
    }

    /// Why a delivery's signature is refused.
    public enum Failure: String, Error, Sendable, Equatable {
        /// No header, or one without `t` and `v1`.
        case missing
        /// No `v1` matches.
        case mismatch
        /// `t` is further than the tolerance from now.
        case stale
    }

    /// Checks `header` against `body`: a `v1` must match the HMAC under one of `secrets` (compared in
    /// constant time) and `t` must lie within `toleranceSeconds` of `nowSeconds`. Returns the matching
    /// `v1` (the delivery's identity for replay checks).
    public static func verify(
        header: String?, body: [UInt8], secrets: [[UInt8]], nowSeconds: Int64, toleranceSeconds: Int64 = 300
    ) -> Result<String, Failure> {
        guard let header else { return .failure(.missing) }
        var timestamp: Int64?
        var candidates: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            switch String(pair[0]).trimmingSpaces() {
            case "t": timestamp = Int64(String(pair[1]).trimmingSpaces())
            case "v1": candidates.append(String(pair[1]).trimmingSpaces().lowercased())
            default: continue  // other schemes are ignored, as Stripe does
            }
        }
        guard let timestamp, !candidates.isEmpty else { return .failure(.missing) }
        var matched: String?
        for secret in secrets {
            let expected = Array(hex(mac(body: body, timestamp: timestamp, secret: secret)).utf8)
            for candidate in candidates where ConstantTime.equal(Array(candidate.utf8), expected) { matched = candidate }
        }
        guard let matched else { return .failure(.mismatch) }
        // The timestamp is checked after the signature: an unsigned one says nothing.
        guard abs(nowSeconds - timestamp) <= toleranceSeconds else { return .failure(.stale) }
        return .success(matched)
    }

    private static func mac(body: [UInt8], timestamp: Int64, secret: [UInt8]) -> [UInt8] {
        HMACSHA256.code(key: secret, message: Array("\(timestamp).".utf8) + body)
    }

    private static func hex(_ code: [UInt8]) -> String {
        code.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }
}
