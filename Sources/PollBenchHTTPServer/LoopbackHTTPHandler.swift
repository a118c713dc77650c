import NIOCore
import NIOHTTP1
import PollBenchRules

/// Serves one HTTP/1.1 connection or one HTTP/2 stream: gathers a request whole, asks the responder
/// synchronously on the event loop, and writes its answer as it says (held, whole, cut or dripped).
/// Requests on one HTTP/1.1 connection are answered in order: NIO's pipelining handler before it holds
/// the next request until an answer's end is written.
final class LoopbackHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: any LoopbackResponder
    private let connections: ServerConnections
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false

    init(responder: any LoopbackResponder, connections: ServerConnections) {
        self.responder = responder
        self.connections = connections
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
            bodyTooLarge = false
        case .body(var part):
            guard !bodyTooLarge else { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > responder.maxBodyBytes {
                bodyTooLarge = true
                body = nil
            } else if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let request = LoopbackRequest(head: head, body: bodyTooLarge ? nil : body.map { Array($0.readableBytesView) } ?? [])
            body = nil
            let stopping = connections.requestBegan()
            let answer = responder.respond(to: request)
            // HTTP/1.x closes after the answer when the client asked or the server is stopping; an HTTP/2 stream ends by itself.
            let close = head.version.major == 1 && (!head.isKeepAlive || stopping)
            if answer.delay > .zero {
                context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(answer.delay.inNanoseconds)) {
                    self.send(answer, version: head.version, close: close, context: context)
                }
            } else {
                send(answer, version: head.version, close: close, context: context)
            }
        }
    }

    private func send(_ answer: LoopbackResponse, version: HTTPVersion, close: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(answer.headers.map { ($0.name, $0.value) })
        headers.add(name: "Content-Length", value: String(answer.body.count))
        headers.add(name: "Date", value: HTTPDateHeader.now())
        if close { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: answer.status), headers: headers))), promise: nil)
        var bytes = context.channel.allocator.buffer(capacity: answer.body.count)
        bytes.writeBytes(answer.body)
        switch answer.delivery {
        case .normal:
            if !answer.body.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
            end(close: close, context: context)
        case .closeMidResponse:
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(bytes.getSlice(at: 0, length: bytes.readableBytes / 2)!))), promise: nil)
            context.close(promise: nil)
            connections.requestEnded()
        case .drip(let millis):
            context.flush()
            drip(bytes, every: .milliseconds(Int64(millis / Self.dripPieces)), pieceSize: max(1, (bytes.readableBytes + Self.dripPieces - 1) / Self.dripPieces), close: close, context: context)
        }
    }

    private static let dripPieces = 10

    /// Sends `rest` a piece at a time, `every` apart, then ends the answer.
    private func drip(_ rest: ByteBuffer, every: TimeAmount, pieceSize: Int, close: Bool, context: ChannelHandlerContext) {
        guard rest.readableBytes > 0 else { return end(close: close, context: context) }
        var rest = rest
        let piece = rest.readSlice(length: min(pieceSize, rest.readableBytes))!
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(piece))), promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: every) {
            self.drip(rest, every: every, pieceSize: pieceSize, close: close, context: context)
        }
    }

    private func end(close: Bool, context: ChannelHandlerContext) {
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let connections = connections
        written.futureResult.assumeIsolated().whenComplete { _ in
            if close { context.close(promise: nil) }
            connections.requestEnded()
        }
    }
}
