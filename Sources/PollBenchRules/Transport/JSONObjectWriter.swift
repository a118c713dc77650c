/// Writes one JSON object field by field, in the given order, straight into UTF-8 bytes: faster than an
/// encoder on the sandbox's hot path, and the field order stays as the API documents show it.
public struct JSONObjectWriter {
    private var bytes: [UInt8]

    /// Starts an empty object.
    public init() {
        bytes = []
        bytes.reserveCapacity(256)  // a status document is about 200 bytes: one allocation
        bytes.append(UInt8(ascii: "{"))
    }

    /// Adds a string field; nil writes `null`.
    public mutating func string(_ key: String, _ value: String?) {
        field(key)
        if let value { Self.quote(value, into: &bytes) } else { bytes += "null".utf8 }
    }

    /// Adds an integer field.
    public mutating func number(_ key: String, _ value: Int64) {
        field(key)
        bytes += String(value).utf8
    }

    /// Adds a boolean field.
    public mutating func bool(_ key: String, _ value: Bool) {
        field(key)
        bytes += (value ? "true" : "false").utf8
    }

    /// Adds a field whose value is already JSON (an object or array written elsewhere).
    public mutating func raw(_ key: String, _ json: [UInt8]) {
        field(key)
        bytes += json
    }

    /// The finished object (its bytes move out: no copy).
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// A JSON array of already-written JSON values.
    public static func array(_ items: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += item
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// A JSON array of strings.
    public static func stringArray(_ items: [String]) -> [UInt8] {
        array(items.map { item in
            var out: [UInt8] = []
            quote(item, into: &out)
            return out
        })
    }

    private mutating func field(_ key: String) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        Self.quote(key, into: &bytes)  // keys are mostly the API's names, but a provider's evidence keys are configured
        bytes.append(UInt8(ascii: ":"))
    }

    private static func quote(_ value: String, into out: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            out.append(UInt8(ascii: "\""))
            // Most values (ids, states, timestamps) need no escape: copied whole, not byte by byte.
            if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                out.append(contentsOf: bytes)
            } else {
                escape(bytes, into: &out)
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    private static func escape(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)  // multi-byte UTF-8 passes through unchanged
            }
        }
    }
}
