import NIOCore
@testable import PollBenchHTTPServer
import PollBenchRules
import Testing

@Suite("The HTTP/1.1 request parser: framing, pipelining, splits anywhere, refusals")
struct HTTP1RequestParserTests {
    /// What a test compares of a parsed request.
    struct Seen: Equatable {
        var method: String
        var path: String
        var minorVersion: Int
        var keepAlive: Bool
        var body: [UInt8]?
        var host: String?
        var key: String?
    }

    static func seen(_ request: HTTP1Request) -> Seen {
        let loopback = LoopbackRequest(request)
        return Seen(
            method: request.method, path: request.path, minorVersion: request.minorVersion, keepAlive: request.keepAlive,
            body: request.body, host: loopback.authority, key: loopback.header("x-pollbench-key")
        )
    }

    /// Four pipelined requests: a GET with a query, a POST by length, a POST chunked (with a chunk
    /// extension and a trailer), and an HTTP/1.0 GET kept alive.
    static let stream = Array((
        "GET /api/v1/verifications/abc?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Pollbench-Key:  s#1 \r\n\r\n"
            + "POST /api/v1/verifications HTTP/1.1\r\nhost: h\r\nContent-Length: 10\r\n\r\n0123456789"
            + "POST /hook HTTP/1.1\r\nHOST: h\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n"
            + "GET /old HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
    ).utf8)

    static let expected = [
        Seen(method: "GET", path: "/api/v1/verifications/abc", minorVersion: 1, keepAlive: true, body: [], host: "127.0.0.1:8080", key: "s#1"),
        Seen(method: "POST", path: "/api/v1/verifications", minorVersion: 1, keepAlive: true, body: Array("0123456789".utf8), host: "h", key: nil),
        Seen(method: "POST", path: "/hook", minorVersion: 1, keepAlive: true, body: Array("abcd0123456789".utf8), host: "h", key: nil),
        Seen(method: "GET", path: "/old", minorVersion: 0, keepAlive: true, body: [], host: nil, key: nil),
    ]

    /// Feeds `pieces` one at a time, as reads would bring them, keeping what was not parsed.
    static func parse(_ pieces: [[UInt8]], maxBodyBytes: Int = 1_000) -> (requests: [Seen], last: HTTP1RequestParser.Outcome?) {
        var parser = HTTP1RequestParser(maxBodyBytes: maxBodyBytes)
        var buffer = ByteBuffer()
        var requests: [Seen] = []
        var last: HTTP1RequestParser.Outcome?
        for piece in pieces {
            buffer.writeBytes(piece)
            reading: while true {
                let outcome = parser.next(&buffer)
                last = outcome
                switch outcome {
                case .request(let request): requests.append(seen(request))
                case .needMore, .malformed: break reading
                }
            }
            if case .malformed = last { break }
        }
        return (requests, last)
    }

    @Test("pipelined requests read the same however the bytes are split (500 seeded splits, and byte by byte)")
    func splits() {
        #expect(Self.parse([Self.stream]).requests == Self.expected)
        #expect(Self.parse(Self.stream.map { [$0] }).requests == Self.expected)
        var random = SplitMix64(seed: 27)
        for _ in 0..<500 {
            var pieces: [[UInt8]] = []
            var rest = Self.stream[...]
            while !rest.isEmpty {
                let size = 1 + Int(random.next() % 40)
                pieces.append(Array(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            #expect(Self.parse(pieces).requests == Self.expected)
        }
    }

    @Test("a body over the limit comes as nil and the next request still reads")
    func bodyLimit() {
        let bytes = Array("POST /a HTTP/1.1\r\nContent-Length: 12\r\n\r\n0123456789ab".utf8)
            + Array("POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nc\r\n0123456789ab\r\n0\r\n\r\nGET /c HTTP/1.1\r\n\r\n".utf8)
        let requests = Self.parse([bytes], maxBodyBytes: 11).requests
        #expect(requests.map(\.path) == ["/a", "/b", "/c"])
        #expect(requests.map(\.body) == [nil, nil, []])
    }

    @Test("connection close and HTTP/1.0 without keep-alive end the connection")
    func keepAlive() {
        let requests = Self.parse([Array("GET /a HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\nGET /b HTTP/1.0\r\n\r\n".utf8)]).requests
        #expect(requests.map(\.keepAlive) == [false, false])
    }

    @Test("what is not HTTP/1.x is refused with the status to answer", arguments: [
        ("GET /\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("\u{16}\u{03}\u{01}\u{02}", 400),  // a TLS ClientHello's start, to a plain port: refused before a line ends
        (" GET", 400),
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", 400),
    ])
    func refusals(text: String, status: Int) throws {
        let outcome = try #require(Self.parse([Array(text.utf8)]).last)
        guard case .malformed(let refused) = outcome else { Issue.record("read as \(outcome)"); return }
        #expect(refused == status)
    }

    @Test("a head larger than 16 KiB is refused with 431, complete or not")
    func largeHead() throws {
        let field = "X-Filler: " + String(repeating: "a", count: HTTP1RequestParser.maxHeadBytes) + "\r\n"
        for text in ["GET / HTTP/1.1\r\n" + field + "\r\n", "GET / HTTP/1.1\r\n" + field] {
            guard case .malformed(let status) = try #require(Self.parse([Array(text.utf8)]).last) else { Issue.record("not refused"); continue }
            #expect(status == 431)
        }
    }

    @Test("Expect: 100-continue is asked for once, while the body has not come")
    func expectContinue() {
        var parser = HTTP1RequestParser(maxBodyBytes: 100)
        var buffer = ByteBuffer(string: "POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        guard case .needMore = parser.next(&buffer) else { Issue.record("read too early"); return }
        let first = parser.takeContinueRequest(), second = parser.takeContinueRequest()
        #expect(first && !second)
        buffer.writeString("abc")
        guard case .request(let request) = parser.next(&buffer) else { Issue.record("not read"); return }
        #expect(request.body == Array("abc".utf8))
        let afterBody = parser.takeContinueRequest()
        #expect(!afterBody)
    }
}
