import NIOCore
import NIOHTTP1

/// Serves one HTTP/1.x connection on its bytes: ``HTTP1RequestParser`` reads requests, the responder
/// answers each at once on the event loop, and the answers are encoded straight into one buffer that
/// is written when the read is done (pipelined requests share a write, as nginx's do).
///
/// Requests are answered in order. While an answer is held (a delay, a drip) the next requests wait and
/// the connection stops reading, so a client that pipelines cannot make it buffer without bound.
final class HTTP1Connection: ChannelDuplexHandler, AnswerWriter {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: any LoopbackResponder
    private let connections: ServerConnections
    private var parser: HTTP1RequestParser
    private var context: ChannelHandlerContext?
    /// Bytes read and not yet parsed.
    private var received = ByteBuffer()
    /// Encoded answers not yet written, and how many answers they end.
    private var out = ByteBuffer()
    private var answersInOut = 0
    /// An answer is held or dripping: later requests wait, and reading pauses.
    private var holding = false
    private var readPending = false
    /// The connection closes once what it has written is out; nothing more is read from it.
    private var closing = false
    /// How the answer being written is framed: the request's HTTP/1 minor version, and whether its
    /// connection is HTTP/1.0 kept alive (which must be said).
    private var minorVersion = 1
    private var keepAliveHTTP10 = false

    init(responder: any LoopbackResponder, connections: ServerConnections) {
        self.responder = responder
        self.connections = connections
        parser = HTTP1RequestParser(maxBodyBytes: responder.maxBodyBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        out = context.channel.allocator.buffer(capacity: 1_024)
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        connections.closes(context.channel) {
            connection.eventLoop.execute { connection.value.closeAfterWrites() }
        }
    }

    /// The server is stopping: close once what has been written is out.
    private func closeAfterWrites() {
        closing = true
        writeOut(thenClose: true)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received.readableBytes == 0 {
            received = bytes
        } else {
            received.writeBuffer(&bytes)
        }
        serve()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        writeOut()
    }

    /// Reading pauses while an answer is held: the bytes of the next requests stay in the socket.
    func read(context: ChannelHandlerContext) {
        if holding || closing {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Answers the requests read, in order, until one is held, the bytes run out or the connection closes.
    private func serve() {
        while !holding, !closing, let context {
            switch parser.next(&received) {
            case .needMore:
                if parser.takeContinueRequest() {
                    out.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
                    writeOut()
                }
                return
            case .malformed(let status):
                closing = true
                minorVersion = 1
                _ = connections.requestBegan()
                deliver(LoopbackResponse(status: status), close: true, headOnly: false, on: context.eventLoop)
            case .request(let request):
                let stopping = connections.requestBegan()
                let answer = responder.respond(to: LoopbackRequest(request))
                let close = !request.keepAlive || stopping
                minorVersion = request.minorVersion
                keepAliveHTTP10 = request.minorVersion == 0 && !close
                if answer.delay > .zero || answer.delivery != .normal {
                    holding = true
                    writeOut()  // the answers before it go now
                }
                deliver(answer, close: close, headOnly: request.method == "HEAD", on: context.eventLoop)
            }
        }
    }

    func writeHead(_ answer: LoopbackResponse, bodyLength: Int, close: Bool) {
        // One reservation and straight copies: a write call per piece cost a twelfth of the sandbox's CPU.
        let reason = HTTPResponseStatus(statusCode: answer.status).reasonPhrase
        let date = HTTPDateHeader.now()
        let fieldBytes = answer.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        let bound = 64 + reason.utf8.count + fieldBytes + date.utf8.count + 48
        // 1xx, 204 and 304 answers have no body and no length (RFC 9110 §8.6).
        let sendsLength = !((100..<200).contains(answer.status) || answer.status == 204 || answer.status == 304)
        let minorVersion = minorVersion, keepAliveHTTP10 = keepAliveHTTP10
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { buffer in
            var head = HeadBytes(buffer: buffer)
            head.put(minorVersion == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
            head.put(decimal: answer.status)
            head.put(" ")
            head.put(reason)
            head.put("\r\n")
            for (name, value) in answer.headers {
                head.put(name)
                head.put(": ")
                head.put(value)
                head.put("\r\n")
            }
            if sendsLength {
                head.put("Content-Length: ")
                head.put(decimal: bodyLength)
                head.put("\r\n")
            }
            head.put("Date: ")
            head.put(date)
            head.put(close ? "\r\nConnection: close\r\n\r\n" : keepAliveHTTP10 ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\n\r\n")
            return head.count
        }
    }

    func writeBody(_ piece: ArraySlice<UInt8>, flush: Bool) {
        out.writeBytes(piece)
        if flush { writeOut() }
    }

    func endAnswer(close: Bool) {
        answersInOut += 1
        if close {
            closing = true
            writeOut(thenClose: true)
        }
        guard holding else { return }
        // A held answer ended on a timer: write it, then go on with the requests that waited for it.
        holding = false
        writeOut()
        if readPending, !closing {
            readPending = false
            context?.read()
        }
        serve()
        writeOut()
    }

    func abortAnswer() {
        answersInOut += 1
        closing = true
        writeOut(thenClose: true)
    }

    /// Writes the encoded answers, counted answered now (their bytes go out in order); with `thenClose`,
    /// closes the connection once they and everything before them are out.
    private func writeOut(thenClose: Bool = false) {
        guard let context else { return }
        if answersInOut > 0 {
            connections.requestsEnded(answersInOut)
            answersInOut = 0
        }
        guard thenClose else {
            guard out.readableBytes > 0 else { return }
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            out.clear()  // storage reused once the socket has taken the bytes
            return
        }
        // Even with nothing new, a (then empty) write is what completes after the writes still queued.
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(out), promise: written)
        out.clear()
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Bytes copied into a reserved span, front to back (the span is sized for them beforehand).
private struct HeadBytes {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
    }

    mutating func put(_ text: StaticString) {
        put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func put(_ text: String) {
        var text = text
        text.withUTF8 { put(UnsafeRawBufferPointer($0)) }
    }

    /// A non-negative number in decimal.
    mutating func put(decimal value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits
        withUnsafeMutableBytes(of: &digits) { scratch in
            var rest = max(0, value), start = scratch.count
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            put(UnsafeRawBufferPointer(rebasing: scratch[start...]))
        }
    }

    private mutating func put(_ bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= buffer.count, "an answer's head outgrew its reservation")
        UnsafeMutableRawBufferPointer(rebasing: buffer[count..<(count + bytes.count)]).copyMemory(from: bytes)
        count += bytes.count
    }
}
