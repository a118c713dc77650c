import NIOCore
import PollBenchRules

/// Where an HTTP/1.1 connection or an HTTP/2 stream writes one answer's parts. How the parts are
/// timed (held, whole, cut, dripped) is ``deliver(_:close:headOnly:on:)``'s, shared by both.
protocol AnswerWriter: AnyObject {
    /// The status and header fields (with `Content-Length: bodyLength`, `Date`, and `Connection: close`
    /// when `close`), not yet flushed.
    func writeHead(_ answer: LoopbackResponse, bodyLength: Int, close: Bool)
    /// Part of the body; flushed now when `flush`.
    func writeBody(_ piece: ArraySlice<UInt8>, flush: Bool)
    /// The answer is whole: it counts as answered once written, and `close` closes its connection after it.
    func endAnswer(close: Bool)
    /// The answer stops here: its connection (or stream) closes after what was written.
    func abortAnswer()
}

extension AnswerWriter {
    /// Writes `answer` as the service drew it: after its delay, then whole, cut halfway and the
    /// connection closed, or dripped in ten pieces over the drip's time. `headOnly` (a HEAD request)
    /// sends the head alone.
    func deliver(_ answer: LoopbackResponse, close: Bool, headOnly: Bool, on loop: any EventLoop) {
        guard answer.delay > .zero else { return send(answer, close: close, headOnly: headOnly, on: loop) }
        loop.assumeIsolated().scheduleTask(in: .nanoseconds(answer.delay.inNanoseconds)) {
            self.send(answer, close: close, headOnly: headOnly, on: loop)
        }
    }

    private func send(_ answer: LoopbackResponse, close: Bool, headOnly: Bool, on loop: any EventLoop) {
        writeHead(answer, bodyLength: answer.body.count, close: close)
        let body = headOnly ? [] : answer.body[...]
        switch answer.delivery {
        case .normal:
            if !body.isEmpty { writeBody(body, flush: false) }
            endAnswer(close: close)
        case .closeMidResponse:
            writeBody(body.prefix(body.count / 2), flush: true)
            abortAnswer()
        case .drip(let millis):
            let pieces = AnswerDrip.pieces
            drip(body, every: .milliseconds(Int64(millis / pieces)), pieceSize: max(1, (body.count + pieces - 1) / pieces), close: close, on: loop)
        }
    }

    /// Sends `rest` a piece at a time, `every` apart, then ends the answer.
    private func drip(_ rest: ArraySlice<UInt8>, every: TimeAmount, pieceSize: Int, close: Bool, on loop: any EventLoop) {
        guard !rest.isEmpty else { return endAnswer(close: close) }
        writeBody(rest.prefix(pieceSize), flush: true)
        loop.assumeIsolated().scheduleTask(in: every) {
            self.drip(rest.dropFirst(pieceSize), every: every, pieceSize: pieceSize, close: close, on: loop)
        }
    }
}

/// How a dripped answer is cut.
private enum AnswerDrip {
    static let pieces = 10
}
