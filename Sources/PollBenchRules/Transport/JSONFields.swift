/// Reads the top-level string and null fields of one JSON object, strictly: a body that is not exactly
/// one well-formed JSON object (truncated, malformed, trailing bytes) gives nil. Nested values are
/// checked and skipped. The poll path reads one or two fields of every response, so a reading keeps
/// where each string field lies and decodes a value only when it is asked for (``Document``).
public enum JSONFields {
    /// An error document's `code` (a number or a string), as error counts key it; a problem document
    /// without one (connect-v1's RFC 7807) by its `title`; nil when the body names neither.
    public static func errorCode(_ body: [UInt8]) -> String? {
        let fields = document(body)
        if let code = fields?["code"] { return code }
        guard let text = String(validating: body, as: UTF8.self), let range = text.firstRange(of: "\"code\":") else { return fields?["title"] }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        return digits.isEmpty ? nil : String(digits)
    }

    /// The object's top-level string fields (`null` reads as absent); nil when the body is not a JSON object.
    public static func document(_ body: [UInt8]) -> Document? {
        var reader = Reader(bytes: body)
        return reader.topLevelObject().map { Document(bytes: body, fields: $0.fields) }
    }

    /// The object's top-level fields whose values are strings, all decoded; nil when the body is not a JSON object.
    public static func strings(_ body: [UInt8]) -> [String: String]? {
        document(body)?.dictionary
    }

    /// A nested object's string fields, e.g. `flowDetails`; nil when the body is not a JSON object or the field is not an object.
    public static func object(_ body: [UInt8], field: String) -> [String: String]? {
        var reader = Reader(bytes: body)
        guard let nested = reader.topLevelObject(descendInto: field)?.nested else { return nil }
        return Document(bytes: body, fields: nested).dictionary
    }

    /// Where one string field lies in the document: its key's and its value's bytes between the quotes,
    /// and whether either holds an escape (then it is decoded before use).
    struct Span {
        var key: Range<Int>
        var value: Range<Int>
        var escaped: Bool
    }

    /// One JSON object's top-level string fields, read where they lie: a lookup compares the key's
    /// bytes and decodes only the value asked for. A later field of the same name wins, as in a dictionary.
    public struct Document: Sendable {
        let bytes: [UInt8]
        let fields: [Span]

        /// The field `name`'s string value; nil when the object has none (or it is not a string).
        public subscript(name: String) -> String? {
            var name = name
            return name.withUTF8 { wanted in
                for span in fields.reversed() where matches(span, wanted) {
                    return Reader.text(bytes, span.value, escaped: span.escaped)
                }
                return nil
            }
        }

        /// Every string field, decoded.
        public var dictionary: [String: String] {
            var all: [String: String] = [:]
            for span in fields {
                guard let key = Reader.text(bytes, span.key, escaped: span.escaped), let value = Reader.text(bytes, span.value, escaped: span.escaped) else { continue }
                all[key] = value
            }
            return all
        }

        private func matches(_ span: Span, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
            if span.escaped { return Reader.text(bytes, span.key, escaped: true).map { Array($0.utf8).elementsEqual(wanted) } ?? false }
            return span.key.count == wanted.count && bytes[span.key].elementsEqual(wanted)
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        /// The whole input as one object: its string fields, and the string fields of the object in `wanted`.
        mutating func topLevelObject(descendInto wanted: String? = nil) -> (fields: [Span], nested: [Span]?)? {
            skipSpace()
            guard let read = object(descendInto: wanted) else { return nil }
            skipSpace()
            return i == bytes.count ? read : nil
        }

        mutating func object(descendInto wanted: String?) -> (fields: [Span], nested: [Span]?)? {
            var fields: [Span] = []
            fields.reserveCapacity(8)  // one allocation for the API's documents, not one per doubling
            var nested: [Span]?
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
                    fields.append(Span(key: key.range, value: value.range, escaped: key.escaped || value.escaped))
                } else if let wanted, peek == UInt8(ascii: "{"), isKey(key, wanted) {
                    guard let inner = object(descendInto: nil) else { return nil }
                    nested = inner.fields
                } else if !skipValue() {
                    return nil
                }
                skipSpace()
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}")) ? (fields, nested) : nil
        }

        private func isKey(_ key: (range: Range<Int>, escaped: Bool), _ wanted: String) -> Bool {
            key.escaped ? Self.decoded(bytes, key.range) == wanted : bytes[key.range].elementsEqual(wanted.utf8)
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

        /// Reads one string: the bytes between its quotes, and whether they hold an escape; nil when it is
        /// malformed (a control byte, a bad escape, an end before the closing quote, bytes that are not UTF-8).
        mutating func string() -> (range: Range<Int>, escaped: Bool)? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            let start = i
            var escaped = false
            while let byte = peek {
                switch byte {
                case UInt8(ascii: "\""):
                    let range = start..<i
                    i += 1
                    // Checked here, so that a document that reads is one whose every string decodes.
                    let valid = escaped ? Self.decoded(bytes, range) != nil : Self.isUTF8(bytes[range])
                    return valid ? (range, escaped) : nil
                case UInt8(ascii: "\\"):
                    escaped = true
                    i += 2
                case 0..<0x20:
                    return nil
                default:
                    i += 1
                }
            }
            return nil
        }

        /// A string's text from its bytes between the quotes, its escapes decoded when it has any; nil when it is not valid.
        static func text(_ bytes: [UInt8], _ range: Range<Int>, escaped: Bool) -> String? {
            escaped ? decoded(bytes, range) : String(validating: bytes[range], as: UTF8.self)
        }

        /// Whether `text` is UTF-8; ASCII, as API documents mostly are, is checked without building a string.
        static func isUTF8(_ text: ArraySlice<UInt8>) -> Bool {
            text.allSatisfy { $0 < 0x80 } || String(validating: text, as: UTF8.self) != nil
        }

        /// The text of a string's bytes (between its quotes) with its escapes decoded; nil when an escape is bad.
        static func decoded(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
            var out: [UInt8] = []
            out.reserveCapacity(range.count)
            var i = range.lowerBound
            while i < range.upperBound {
                let byte = bytes[i]
                i += 1
                guard byte == UInt8(ascii: "\\") else {
                    out.append(byte)
                    continue
                }
                guard i < range.upperBound else { return nil }
                let escaped = bytes[i]
                i += 1
                switch escaped {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard i + 4 <= range.upperBound, let code = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else { return nil }
                    i += 4
                    out += Array(String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8)
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                default: return nil
                }
            }
            return String(validating: out, as: UTF8.self)
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
