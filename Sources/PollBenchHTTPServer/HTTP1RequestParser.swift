import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP/1.x request, read whole by ``HTTP1RequestParser``.
struct HTTP1Request {
    /// `GET`, `POST`, …
    var method: String
    /// The target's path, without its query.
    var path: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    var minorVersion: Int
    /// The header lines as sent, each ending in CRLF (a slice of what was read: no copy).
    var headerLines: ByteBuffer
    /// Whether the connection stays open after the answer (HTTP/1.1 unless `Connection: close`; HTTP/1.0
    /// only with `Connection: keep-alive`).
    var keepAlive: Bool
    /// The body; nil when it was larger than the parser's limit (its bytes were read and dropped).
    var body: [UInt8]?
}

/// Reads HTTP/1.x requests from a connection's bytes (RFC 9112): the request line, header lines, and a
/// body framed by `Content-Length` or chunked transfer coding. Bytes come as they arrive; a request is
/// returned once it is whole, and what follows it (a pipelined request) stays in the buffer.
///
/// Why not NIO's codec: it turns each request into a head, header objects and body parts that pass
/// through three more handlers, and that was a quarter of the sandbox's CPU. This parser touches each
/// byte once and makes a `String` only of the method and the path; header values are found on demand.
struct HTTP1RequestParser {
    /// What one step of reading gave.
    enum Outcome {
        /// A whole request.
        case request(HTTP1Request)
        /// The buffer ends inside a request.
        case needMore
        /// The bytes are not a request we can read: answer `status` and close the connection.
        case malformed(status: Int)
    }

    /// The largest request line and header section taken (nginx's default large header buffer is 8 KiB).
    static let maxHeadBytes = 16_384
    /// The longest chunk-size line taken (size, extensions, CRLF).
    private static let maxChunkLineBytes = 1_024

    private enum Phase {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
    }

    private let maxBodyBytes: Int
    private var phase = Phase.head
    /// The request whose body is being read.
    private var current: HTTP1Request?
    private var body: [UInt8] = []
    private var bodyTooLarge = false
    /// The head asked for `100 Continue` and its body has not all come yet.
    private var expectsContinue = false

    /// A parser for one connection; bodies over `maxBodyBytes` are dropped.
    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    /// Whether the client waits for `100 Continue` before it sends the body of the request being read.
    /// True once per such request: the caller sends the interim answer when this says so.
    mutating func takeContinueRequest() -> Bool {
        defer { expectsContinue = false }
        guard expectsContinue, current != nil else { return false }
        return true
    }

    /// Reads from `buffer` until a request is whole (consuming its bytes), the bytes run out, or they
    /// are not HTTP.
    mutating func next(_ buffer: inout ByteBuffer) -> Outcome {
        while true {
            switch phase {
            case .head:
                switch readHead(&buffer) {
                case .needMore: return .needMore
                case .malformed(let status): return .malformed(status: status)
                case .request(let request): if let whole = finishIfBodyless(request) { return .request(whole) }
                }
            case .fixedBody(let remaining):
                guard buffer.readableBytes > 0 else { return .needMore }
                let taken = min(remaining, buffer.readableBytes)
                take(&buffer, count: taken)
                guard taken == remaining else {
                    phase = .fixedBody(remaining: remaining - taken)
                    return .needMore
                }
                return .request(finish())
            case .chunkSize:
                guard let line = readLine(&buffer, limit: Self.maxChunkLineBytes) else {
                    return buffer.readableBytes > Self.maxChunkLineBytes ? .malformed(status: 400) : .needMore
                }
                guard let size = Self.chunkSize(line) else { return .malformed(status: 400) }
                phase = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return .needMore }
                let taken = min(remaining, buffer.readableBytes)
                take(&buffer, count: taken)
                phase = taken == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - taken)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return .needMore }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { return .malformed(status: 400) }
                phase = .chunkSize
            case .trailers:
                guard let line = readLine(&buffer, limit: Self.maxHeadBytes) else {
                    return buffer.readableBytes > Self.maxHeadBytes ? .malformed(status: 431) : .needMore
                }
                if line.readableBytes == 0 { return .request(finish()) }
            }
        }
    }

    /// Takes `count` body bytes, keeping them while the body fits the limit.
    private mutating func take(_ buffer: inout ByteBuffer, count: Int) {
        if !bodyTooLarge, body.count + count <= maxBodyBytes {
            buffer.withUnsafeReadableBytes { body.append(contentsOf: $0.prefix(count)) }
        } else {
            bodyTooLarge = true
            body = []
        }
        buffer.moveReaderIndex(forwardBy: count)
    }

    /// The request, now that its body is read; the parser waits for the next head.
    private mutating func finish() -> HTTP1Request {
        var request = current!
        request.body = bodyTooLarge ? nil : body
        current = nil
        body = []
        bodyTooLarge = false
        expectsContinue = false
        phase = .head
        return request
    }

    /// `request` if it has no body; else the parser starts reading its body and returns nil.
    private mutating func finishIfBodyless(_ framed: FramedHead) -> HTTP1Request? {
        current = framed.request
        switch framed.framing {
        case .none:
            return finish()
        case .length(let length):
            guard length > 0 else { return finish() }
            if length <= maxBodyBytes { body.reserveCapacity(length) }
            phase = .fixedBody(remaining: length)
        case .chunked:
            phase = .chunkSize
        }
        expectsContinue = framed.expectsContinue
        return nil
    }

    // MARK: The head

    private enum Framing { case none, length(Int), chunked }

    private struct FramedHead {
        var request: HTTP1Request
        var framing: Framing
        var expectsContinue: Bool
    }

    private enum HeadOutcome {
        case request(FramedHead)
        case needMore
        case malformed(status: Int)
    }

    private static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
    private static let colon = UInt8(ascii: ":"), question = UInt8(ascii: "?"), comma = UInt8(ascii: ",")

    /// Reads a request line and its header section when the buffer holds them whole. Empty lines before
    /// a request line are skipped (RFC 9112 §2.2).
    private func readHead(_ buffer: inout ByteBuffer) -> HeadOutcome {
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
        }
        let scanned = buffer.withUnsafeReadableBytes { bytes -> (headLength: Int, lineEnd: Int)? in
            guard let lineEnd = Self.index(of: Self.lf, in: bytes, from: 0) else { return nil }
            var index = lineEnd + 1
            // The header section ends with an empty line: LF CR LF (or a bare LF LF).
            while let next = Self.index(of: Self.lf, in: bytes, from: index) {
                if next == index || (next == index + 1 && bytes[index] == Self.cr) { return (next + 1, lineEnd) }
                index = next + 1
            }
            return nil
        }
        guard let (headLength, lineEnd) = scanned else {
            // Bytes that cannot start a request (a TLS handshake sent to a plain port) are refused at once,
            // not waited on: the client learns why instead of timing out.
            guard buffer.withUnsafeReadableBytes(Self.couldStartRequest) else { return .malformed(status: 400) }
            return buffer.readableBytes > Self.maxHeadBytes ? .malformed(status: 431) : .needMore
        }
        guard headLength <= Self.maxHeadBytes else { return .malformed(status: 431) }
        let start = buffer.readerIndex
        defer { buffer.moveReaderIndex(forwardBy: headLength) }
        guard let line = buffer.withUnsafeReadableBytes({ Self.requestLine(UnsafeRawBufferPointer(rebasing: $0[..<lineEnd])) }) else {
            return .malformed(status: 400)
        }
        guard line.minorVersion >= 0 else { return .malformed(status: 505) }
        let headerLines = buffer.getSlice(at: start + lineEnd + 1, length: headLength - lineEnd - 1)!
        guard let fields = headerLines.withUnsafeReadableBytes({ Self.framingFields($0) }) else { return .malformed(status: 400) }
        if fields.chunked, fields.contentLength != nil { return .malformed(status: 400) }  // ambiguous framing: a smuggling vector
        let keepAlive = line.minorVersion == 1 ? !fields.close : fields.keepAlive && !fields.close
        let request = HTTP1Request(
            method: line.method, path: line.path, minorVersion: line.minorVersion, headerLines: headerLines, keepAlive: keepAlive, body: []
        )
        let framing: Framing = fields.chunked ? .chunked : fields.contentLength.map { .length($0) } ?? .none
        return .request(FramedHead(request: request, framing: framing, expectsContinue: fields.expectsContinue))
    }

    /// Whether `bytes` can begin a request line: a method's token characters up to the first space.
    private static func couldStartRequest(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for (offset, byte) in bytes.enumerated() {
            if byte == space { return offset > 0 }
            guard isTokenByte(byte) else { return false }
        }
        return true
    }

    /// `METHOD SP target SP HTTP/1.x` (CR optional), or nil. A version other than 1.0 or 1.1 comes with
    /// a negative minor version.
    private static func requestLine(_ bytes: UnsafeRawBufferPointer) -> (method: String, path: String, minorVersion: Int)? {
        let end = bytes.last == cr ? bytes.count - 1 : bytes.count
        guard let methodEnd = index(of: space, in: bytes, from: 0), methodEnd > 0, methodEnd < end,
              let targetEnd = index(of: space, in: bytes, from: methodEnd + 1), targetEnd > methodEnd + 1, targetEnd < end
        else { return nil }
        guard bytes[..<methodEnd].allSatisfy(isTokenByte) else { return nil }
        let version = UnsafeRawBufferPointer(rebasing: bytes[(targetEnd + 1)..<end])
        guard version.count == 8, version.starts(with: "HTTP/".utf8), version[6] == UInt8(ascii: ".") else { return nil }
        let major = version[5], minor = version[7]
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(major), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(minor) else { return nil }
        let minorVersion = major == UInt8(ascii: "1") && minor <= UInt8(ascii: "1") ? Int(minor - UInt8(ascii: "0")) : -1
        let target = bytes[(methodEnd + 1)..<targetEnd]
        guard !target.contains(where: { $0 < 0x21 || $0 == 0x7F }) else { return nil }
        let pathEnd = target.firstIndex(of: question) ?? targetEnd
        let method = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<methodEnd]), as: UTF8.self)
        let path = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(methodEnd + 1)..<pathEnd]), as: UTF8.self)
        return (method, path, minorVersion)
    }

    /// What of the header section frames the message and the connection.
    private struct FramingFields {
        var contentLength: Int?
        var chunked = false
        var close = false
        var keepAlive = false
        var expectsContinue = false
    }

    /// Reads the header lines for their framing fields; nil when a line is not a field, a length is
    /// not a number or two lengths differ, or the transfer coding is not chunked.
    private static func framingFields(_ bytes: UnsafeRawBufferPointer) -> FramingFields? {
        var fields = FramingFields()
        for line in HeaderLines(bytes) {
            guard let field = HeaderField(line) else { return nil }
            switch field.name.count {
            case 14 where field.nameIs("content-length"):
                guard let length = decimal(field.value), fields.contentLength == nil || fields.contentLength == length else { return nil }
                fields.contentLength = length
            case 17 where field.nameIs("transfer-encoding"):
                // Only chunked is read; any other coding is refused (RFC 9112 §6.1 allows a 501).
                guard field.value.count == 7, field.valueIs("chunked") else { return nil }
                fields.chunked = true
            case 10 where field.nameIs("connection"):
                for token in field.value.split(separator: comma) {
                    let trimmed = HeaderField.trim(token)
                    if HeaderField.equalsIgnoringCase(trimmed, "close") { fields.close = true }
                    if HeaderField.equalsIgnoringCase(trimmed, "keep-alive") { fields.keepAlive = true }
                }
            case 6 where field.nameIs("expect"):
                fields.expectsContinue = field.valueIs("100-continue")
            default:
                break
            }
        }
        return fields
    }

    /// A non-negative decimal number of at most 18 digits.
    private static func decimal(_ digits: UnsafeRawBufferPointer.SubSequence) -> Int? {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// A chunk-size line's size (hex, extensions after `;` ignored), or nil.
    private static func chunkSize(_ line: ByteBuffer) -> Int? {
        line.withUnsafeReadableBytes { bytes in
            let digits = bytes.prefix { $0 != UInt8(ascii: ";") && $0 != space && $0 != tab }
            guard !digits.isEmpty, digits.count <= 15 else { return nil }
            var value = 0
            for byte in digits {
                guard let digit = hexDigit(byte) else { return nil }
                value = value * 16 + digit
            }
            return value
        }
    }

    private static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    /// A line without its CRLF, consumed with it; nil (nothing consumed) when no LF is within `limit`.
    private func readLine(_ buffer: inout ByteBuffer, limit: Int) -> ByteBuffer? {
        let lineEnd = buffer.withUnsafeReadableBytes { Self.index(of: Self.lf, in: UnsafeRawBufferPointer(rebasing: $0.prefix(limit + 1)), from: 0) }
        guard let lineEnd else { return nil }
        var line = buffer.readSlice(length: lineEnd + 1)!
        line.moveWriterIndex(to: line.writerIndex - (lineEnd > 0 && line.getInteger(at: line.writerIndex - 2, as: UInt8.self) == Self.cr ? 2 : 1))
        return line
    }

    static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// RFC 9110's `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

/// The lines of a header section, each without its line end (CRLF or a bare LF), up to the empty line
/// that ends the section or the end of the bytes.
struct HeaderLines: Sequence, IteratorProtocol {
    private let bytes: UnsafeRawBufferPointer
    private var start = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> UnsafeRawBufferPointer? {
        guard let lineEnd = HTTP1RequestParser.index(of: UInt8(ascii: "\n"), in: bytes, from: start) else { return nil }
        let end = lineEnd > start && bytes[lineEnd - 1] == UInt8(ascii: "\r") ? lineEnd - 1 : lineEnd
        defer { start = lineEnd + 1 }
        return end == start ? nil : UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }
}

/// One `name: value` header line (without its line end), read in place.
struct HeaderField {
    let name: UnsafeRawBufferPointer.SubSequence
    let value: UnsafeRawBufferPointer.SubSequence

    /// The field on `line`, or nil when it has no colon, an empty name, or whitespace in the name
    /// (including a line folded onto the one before, which RFC 9112 §5.2 lets a server refuse).
    init?(_ line: UnsafeRawBufferPointer) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
        name = line[..<colon]
        guard !name.contains(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else { return nil }
        value = Self.trim(line[(colon + 1)...])
    }

    func nameIs(_ lowercased: StaticString) -> Bool { Self.equalsIgnoringCase(name, lowercased) }
    func valueIs(_ lowercased: StaticString) -> Bool { Self.equalsIgnoringCase(value, lowercased) }

    /// Whether `bytes` spell `lowercased` in any case (ASCII).
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer.SubSequence, _ lowercased: StaticString) -> Bool {
        guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: lowercased.utf8Start, count: lowercased.utf8CodeUnitCount)
        return zip(bytes, expected).allSatisfy { lowercase($0) == $1 }
    }

    /// Whether the name is `other`'s bytes, in any case (ASCII).
    func nameIs(_ other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard name.count == other.count else { return false }
        for (offset, byte) in other.enumerated() where Self.lowercase(name[name.startIndex + offset]) != Self.lowercase(byte) { return false }
        return true
    }

    /// `byte` with an ASCII capital letter made small.
    static func lowercase(_ byte: UInt8) -> UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte }

    /// `bytes` without spaces and tabs at either end.
    static func trim(_ bytes: UnsafeRawBufferPointer.SubSequence) -> UnsafeRawBufferPointer.SubSequence {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else { return bytes[bytes.startIndex..<bytes.startIndex] }
        return bytes[first...last]
    }
}
