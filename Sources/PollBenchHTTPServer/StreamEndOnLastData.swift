import NIOCore
import NIOHTTP2

/// Ends an HTTP/2 response's stream on its last DATA frame, as nginx does, instead of in an empty DATA
/// frame after it (what the HTTP/2 codec writes for a response's end).
///
/// Why: libcurl counts a transfer done once it has the Content-Length's bytes. When the empty END_STREAM
/// frame has not arrived by then, it resets the stream (RST_STREAM), and swift-nio-http2 answers more
/// than 200 resets in 30 s on a connection with GOAWAY(ENHANCE_YOUR_CALM): the requests in flight on it
/// were lost or sent again. A DATA frame is held until the next write: an empty END_STREAM frame next
/// is folded into it; anything else, or a flush, sends it as it was (a streamed body is not delayed).
final class StreamEndOnLastData: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private var held: (data: HTTP2Frame.FramePayload.Data, promise: EventLoopPromise<Void>?)?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = unwrapOutboundIn(data)
        if case .data(let frame) = payload, let held {
            self.held = nil
            if frame.endStream, frame.data.readableBytes == 0 {
                var ended = held.data
                ended.endStream = true
                if let first = held.promise, let promise { first.futureResult.cascade(to: promise) }
                context.write(wrapOutboundOut(.data(ended)), promise: held.promise ?? promise)
                return
            }
            context.write(wrapOutboundOut(.data(held.data)), promise: held.promise)
        } else {
            release(context)
        }
        if case .data(let frame) = payload, !frame.endStream, frame.data.readableBytes > 0 {
            held = (frame, promise)
            return
        }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        release(context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        release(context)
        context.close(mode: mode, promise: promise)
    }

    private func release(_ context: ChannelHandlerContext) {
        guard let held else { return }
        self.held = nil
        context.write(wrapOutboundOut(.data(held.data)), promise: held.promise)
    }
}
