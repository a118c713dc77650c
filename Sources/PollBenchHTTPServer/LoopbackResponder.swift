import NIOCore
import NIOHTTP1
import PollBenchRules

/// What a ``LoopbackServer`` serves: one whole request in, one answer out, computed at once on the
/// connection's event loop (it must not block). The server does the HTTP: reading, framing, keep-alive,
/// HTTP/2 streams, and the answer's delay and delivery.
public protocol LoopbackResponder: Sendable {
    /// The largest request body read; a larger one is discarded and comes as a nil ``LoopbackRequest/body``.
    var maxBodyBytes: Int { get }
    /// The answer to `request`.
    func respond(to request: LoopbackRequest) -> LoopbackResponse
}

/// One request, read whole.
public struct LoopbackRequest: Sendable {
    /// `GET`, `POST`, …
    public let method: String
    /// The target's path, without its query.
    public let path: String
    /// The body; nil when it was larger than the responder's ``LoopbackResponder/maxBodyBytes``.
    public let body: [UInt8]?
    /// The header lines, `name: value` CRLF each, as read (HTTP/1.1) or written out (HTTP/2): values are
    /// found when asked for, so a request makes no string of a header nobody reads.
    private let headerLines: ByteBuffer

    init(_ request: HTTP1Request) {
        method = request.method
        path = request.path
        body = request.body
        headerLines = request.headerLines
    }

    init(head: HTTPRequestHead, body: [UInt8]?) {
        method = head.method.rawValue
        path = head.uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(head.uri[..<$0]) } ?? head.uri
        self.body = body
        var lines = ByteBuffer()
        for (name, value) in head.headers {
            lines.writeString(name)
            lines.writeStaticString(": ")
            lines.writeString(value)
            lines.writeStaticString("\r\n")
        }
        headerLines = lines
    }

    /// The first value of the header `name` (any case), if sent.
    public func header(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { name in
            headerLines.withUnsafeReadableBytes { bytes in
                // A line is `name:` only if the byte after the name is the colon: most lines are ruled out there.
                for line in HeaderLines(bytes) where line.count > name.count && line[name.count] == UInt8(ascii: ":") {
                    if let field = HeaderField(line), field.nameIs(name) {
                        return String(decoding: UnsafeRawBufferPointer(rebasing: field.value), as: UTF8.self)
                    }
                }
                return nil
            }
        }
    }

    /// Where the client addressed the server (its `Host`, or HTTP/2's `:authority`).
    public var authority: String? { header("host") }
}

/// An answer, and how the server delivers it.
public struct LoopbackResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields; `Content-Length` and `Date` are the server's.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]
    /// How long the server holds the answer before it starts to send it.
    public var delay: Duration
    /// How it is sent: whole, or with a transport fault the service drew.
    public var delivery: ResponseDelivery

    /// An answer sent whole, after `delay`.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [], delay: Duration = .zero, delivery: ResponseDelivery = .normal) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delay = delay
        self.delivery = delivery
    }
}
