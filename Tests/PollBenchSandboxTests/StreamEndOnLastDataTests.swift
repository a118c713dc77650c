import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing
@testable import PollBenchHTTPServer

@Suite("HTTP/2 responses end their stream on the last DATA frame")
struct StreamEndOnLastDataTests {
    /// The frames that leave a stream's pipeline for `writes`, each batch flushed.
    static func frames(_ batches: [[HTTP2Frame.FramePayload]]) throws -> [HTTP2Frame.FramePayload] {
        let channel = EmbeddedChannel(handler: StreamEndOnLastData())
        for batch in batches {
            for payload in batch { channel.write(payload, promise: nil) }
            channel.flush()
        }
        var out: [HTTP2Frame.FramePayload] = []
        while let frame = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) { out.append(frame) }
        return out
    }

    static func data(_ text: String, end: Bool = false) -> HTTP2Frame.FramePayload {
        .data(.init(data: .byteBuffer(ByteBuffer(string: text)), endStream: end))
    }

    static func describe(_ frames: [HTTP2Frame.FramePayload]) -> [String] {
        frames.map { frame in
            switch frame {
            case .headers(let headers): "HEADERS" + (headers.endStream ? "+END" : "")
            case .data(let data):
                if case .byteBuffer(let buffer) = data.data { "DATA(\(String(buffer: buffer)))" + (data.endStream ? "+END" : "") } else { "DATA(file)" }
            default: "OTHER"
            }
        }
    }

    static let head = HTTP2Frame.FramePayload.headers(.init(headers: [":status": "200"]))

    @Test("a response written at once (head, body, end) is HEADERS then one DATA that ends the stream, as nginx sends it")
    func folded() throws {
        #expect(Self.describe(try Self.frames([[Self.head, Self.data("{}"), Self.data("", end: true)]])) == ["HEADERS", "DATA({})+END"])
    }

    @Test("a streamed body is not held past a flush; a bodiless response and a body that ends itself pass unchanged")
    func passesThrough() throws {
        #expect(Self.describe(try Self.frames([[Self.head, Self.data("a")], [Self.data("b")], [Self.data("", end: true)]]))
            == ["HEADERS", "DATA(a)", "DATA(b)", "DATA()+END"])
        #expect(Self.describe(try Self.frames([[Self.head, Self.data("", end: true)]])) == ["HEADERS", "DATA()+END"])
        #expect(Self.describe(try Self.frames([[Self.head, Self.data("a"), Self.data("b", end: true)]])) == ["HEADERS", "DATA(a)", "DATA(b)+END"])
    }
}
