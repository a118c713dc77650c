/// Reads the top-level string and null fields of one JSON object, strictly: a body that is not exactly
/// one well-formed JSON object (truncated, malformed, trailing bytes) gives nil. Nested values are
/// checked and skipped. The poll path reads a few fields of every response, so this avoids building a
/// dictionary of `Any`.
public enum JSONFields {
    /// An error document's `code` (a number or a string), as error counts key it; a problem document
    /// without one (connect-v1's RFC 7807) by its `title`; nil when the body names neither.
    public static func errorCode(_ body: [UInt8]) -> String? {
        let fields = strings(body)
        if let code = fields?["code"] { return code }
        guard let text = String(validating: body, as: UTF8.self), let range = text.firstRange(of: "\"code\":") else { return fields?["title"] }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        return digits.isEmpty ? nil : String(digits)
    }

    /// The object's top-level fields whose values are strings (`null` reads as absent); nil when the body is not a JSON object.
    public static func strings(_ body: [UInt8]) -> [String: String]? {
        var reader = Reader(bytes: body)
        return reader.topLevelObject()
    }

    /// A nested object's string fields, e.g. `flowDetails`; nil when the body is not a JSON object or the field is not an object.
    public static func object(_ body: [UInt8], field: String) -> [String: String]? {
        var reader = Reader(bytes: body)
        return reader.topLevelObject(descendInto: field)
    }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        /// The whole input as one object: its string fields, and the string fields of the object in `wanted`.
        mutating func topLevelObject(descendInto wanted: String? = nil) -> [String: String]? {
            skipSpace()
            guard let (fields, nested) = object(descendInto: wanted) else { return nil }
            skipSpace()
            guard i == bytes.count else { return nil }
            return wanted == nil ? fields : nested
        }

        mutating func object(descendInto wanted: String?) -> (fields: [String: String], nested: [String: String]?)? {
            var fields: [String: String] = [:]
            var nested: [String: String]?
            guard consume(UInt8(ascii: "{")) else { return nil }
            skipSpace()
            if consume(UInt8(ascii: "}")) { return (fields, nil) }
            repeat {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard consume(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                if peek == UInt8(ascii: "\"") {
                    guard let value = string() else { return nil }
                    fields[key] = value
                } else if key == wanted, peek == UInt8(ascii: "{") {
                    guard let inner = object(descendInto: nil) else { return nil }
                    nested = inner.fields
                } else if !skipValue() {
                    return nil
                }
                skipSpace()
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}")) ? (fields, nested) : nil
        }

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            i += 1
            return true
        }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { i += 1 }
        }

        mutating func string() -> String? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            // Most strings have no escape: the bytes up to the closing quote are the string, with no copy on the way.
            let start = i
            while let byte = peek, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 { i += 1 }
            if consume(UInt8(ascii: "\"")) { return String(validating: bytes[start..<(i - 1)], as: UTF8.self) }
            var out = Array(bytes[start..<i])
            while let byte = peek {
                i += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = peek else { return nil }
                    i += 1
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard i + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else { return nil }
                        i += 4
                        out += Array(String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8)
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                    default: return nil
                    }
                case 0..<0x20:
                    return nil
                default:
                    out.append(byte)
                }
            }
            return nil
        }

        mutating func skipValue() -> Bool {
            guard let byte = peek else { return false }
            switch byte {
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                i += 1
                skipSpace()
                if consume(close) { return true }
                repeat {
                    skipSpace()
                    if close == UInt8(ascii: "}") {
                        guard string() != nil else { return false }
                        skipSpace()
                        guard consume(UInt8(ascii: ":")) else { return false }
                        skipSpace()
                    }
                    guard skipValue() else { return false }
                    skipSpace()
                } while consume(UInt8(ascii: ","))
                return consume(close)
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func literal(_ word: String) -> Bool {
            let expected = Array(word.utf8)
            guard i + expected.count <= bytes.count, Array(bytes[i..<(i + expected.count)]) == expected else { return false }
            i += expected.count
            return true
        }

        /// JSON's number grammar exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() -> Bool {
            _ = consume(UInt8(ascii: "-"))
            if !consume(UInt8(ascii: "0")) {
                guard let first = peek, (49...57).contains(first) else { return false }
                digits()
            }
            if consume(UInt8(ascii: ".")) {
                guard digits() else { return false }
            }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard digits() else { return false }
            }
            return true
        }

        /// Skips one or more digits; false when there is none.
        @discardableResult
        mutating func digits() -> Bool {
            let start = i
            while let byte = peek, (48...57).contains(byte) { i += 1 }
            return i > start
        }
    }
}
