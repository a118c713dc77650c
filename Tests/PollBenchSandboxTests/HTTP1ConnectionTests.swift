import NIOCore
import NIOEmbedded
@testable import PollBenchHTTPServer
import PollBenchRules
import Testing

@Suite("An HTTP/1.1 connection: answers in order around a held one, HEAD, refusals, HTTP/1.0")
struct HTTP1ConnectionTests {
    /// Answers `METHOD PATH`; a path ending in `held` is held 100 ms (virtual time).
    struct EchoResponder: LoopbackResponder {
        var maxBodyBytes: Int { 64 }

        func respond(to request: LoopbackRequest) -> LoopbackResponse {
            LoopbackResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array("\(request.method) \(request.path)".utf8),
                             delay: request.path.hasSuffix("held") ? .milliseconds(100) : .zero)
        }
    }

    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTP1Connection(responder: EchoResponder(), connections: ServerConnections()))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8_080)).wait()
        return channel
    }

    /// Everything written so far, as text.
    static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    /// The answers' bodies in `text` (each answer ends with its body, after the blank line).
    static func bodies(_ text: String) -> [String] {
        text.components(separatedBy: "HTTP/1.").dropFirst().map { $0.components(separatedBy: "\r\n\r\n").last ?? "" }
    }

    @Test("pipelined requests are answered in order: the one after a held answer waits for it")
    func heldInOrder() throws {
        let channel = try Self.channel()
        try channel.writeInbound(ByteBuffer(string: "GET /a HTTP/1.1\r\n\r\nGET /held HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"))
        #expect(Self.bodies(try Self.written(channel)) == ["GET /a"])
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(try Self.written(channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(Self.bodies(try Self.written(channel)) == ["GET /held", "GET /c"])
        #expect(channel.isActive)
    }

    @Test("an answer carries its length, Date and fields; HEAD sends the head alone")
    func headOnly() throws {
        let channel = try Self.channel()
        try channel.writeInbound(ByteBuffer(string: "GET /a HTTP/1.1\r\n\r\nHEAD /a HTTP/1.1\r\n\r\n"))
        let answers = try Self.written(channel).components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(answers.count == 2)
        // The HEAD answer's length is that of the body it would have had ("HEAD /a"), which it does not send.
        for (answer, length) in zip(answers, [6, 7]) {
            #expect(answer.hasPrefix("200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(length)\r\nDate: "))
        }
        #expect(answers.first?.hasSuffix("\r\n\r\nGET /a") == true)
        #expect(answers.last?.hasSuffix("GMT\r\n\r\n") == true)
    }

    @Test("what does not parse is answered 400 and the connection closes")
    func refused() throws {
        let channel = try Self.channel()
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nBad Name: x\r\n\r\nGET /never HTTP/1.1\r\n\r\n"))
        let text = try Self.written(channel)
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nDate: "))
        #expect(text.hasSuffix("\r\nConnection: close\r\n\r\n"))
        #expect(!channel.isActive)
    }

    @Test("HTTP/1.0 is answered in 1.0: kept alive when asked (and said so), else closed")
    func http10() throws {
        let kept = try Self.channel()
        try kept.writeInbound(ByteBuffer(string: "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
        let keptText = try Self.written(kept)
        #expect(keptText.hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(keptText.contains("\r\nConnection: keep-alive\r\n\r\n"))
        #expect(kept.isActive)
        let closed = try Self.channel()
        try closed.writeInbound(ByteBuffer(string: "GET /a HTTP/1.0\r\n\r\n"))
        #expect(try Self.written(closed).contains("\r\nConnection: close\r\n\r\n"))
        #expect(!closed.isActive)
    }

    @Test("a client that waits for 100 Continue gets it, then its answer")
    func continueInterim() throws {
        let channel = try Self.channel()
        try channel.writeInbound(ByteBuffer(string: "POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"))
        #expect(try Self.written(channel) == "HTTP/1.1 100 Continue\r\n\r\n")
        try channel.writeInbound(ByteBuffer(string: "ok"))
        #expect(Self.bodies(try Self.written(channel)) == ["POST /up"])
    }
}
