import NIOCore
import NIOHTTP1

/// Serves one HTTP/2 stream, behind NIO's HTTP/2-to-HTTP/1 codec: gathers the request whole, asks the
/// responder synchronously on the event loop, and writes its answer as the service drew it.
final class HTTP2StreamHandler: ChannelInboundHandler, AnswerWriter {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: any LoopbackResponder
    private let connections: ServerConnections
    private var context: ChannelHandlerContext?
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false

    init(responder: any LoopbackResponder, connections: ServerConnections) {
        self.responder = responder
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
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
            _ = connections.requestBegan()
            // A stream ends by itself: nothing to close after the answer, even when the server is stopping.
            deliver(responder.respond(to: request), close: false, headOnly: head.method == .HEAD, on: context.eventLoop)
        }
    }

    func writeHead(_ answer: LoopbackResponse, bodyLength: Int, close: Bool) {
        var headers = HTTPHeaders(answer.headers.map { ($0.name, $0.value) })
        headers.add(name: "Content-Length", value: String(bodyLength))
        headers.add(name: "Date", value: HTTPDateHeader.now())
        context?.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http2, status: HTTPResponseStatus(statusCode: answer.status), headers: headers))), promise: nil)
    }

    func writeBody(_ piece: ArraySlice<UInt8>, flush: Bool) {
        guard let context else { return }
        var bytes = context.channel.allocator.buffer(capacity: piece.count)
        bytes.writeBytes(piece)
        context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        if flush { context.flush() }
    }

    func endAnswer(close: Bool) {
        guard let context else { return connections.requestsEnded() }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let connections = connections
        written.futureResult.whenComplete { _ in connections.requestsEnded() }
    }

    func abortAnswer() {
        context?.close(promise: nil)
        connections.requestsEnded()
    }
}
