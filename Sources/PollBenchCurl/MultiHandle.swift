import CCurl
import PollBenchCore

/// A curl multi handle. Used by one thread at a time; only ``LoopWaker`` may touch it from another.
final class MultiHandle {
    let raw: UnsafeMutableRawPointer
    /// The connections its easy handles hold open (kept here too: curl closes the last of them in cleanup).
    let sockets = SocketCounter()

    init(maxConnections: Int, streamsPerConnection: Int) throws(CurlSetupError) {
        _ = CurlCode.globalInit
        guard let raw = curl_multi_init() else { throw CurlSetupError(description: "curl_multi_init failed") }
        self.raw = raw
        // Keep every pooled connection alive; the concurrency limit is the pool, not curl's host limit.
        try pb_multi_setopt_long(raw, CURLMOPT_MAXCONNECTS, maxConnections).check("CURLMOPT_MAXCONNECTS")
        try pb_multi_setopt_long(raw, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX)).check("CURLMOPT_PIPELINING")
        try pb_multi_setopt_long(raw, CURLMOPT_MAX_CONCURRENT_STREAMS, streamsPerConnection).check("CURLMOPT_MAX_CONCURRENT_STREAMS")
    }

    deinit {
        curl_multi_cleanup(raw)
    }

    func add(_ handle: EasyHandle) throws(CurlSetupError) {
        try curl_multi_add_handle(raw, handle.raw).check("curl_multi_add_handle")
    }

    func remove(_ handle: EasyHandle) {
        curl_multi_remove_handle(raw, handle.raw)
    }

    func perform() {
        var running: Int32 = 0
        curl_multi_perform(raw, &running)
    }

    /// Sleeps until socket activity, a wakeup, curl's own next timeout or `timeoutMilliseconds`.
    func poll(timeoutMilliseconds: Int32) {
        curl_multi_poll(raw, nil, 0, timeoutMilliseconds, nil)
    }

    /// The next finished transfer, if any: its easy handle and result code.
    func nextCompleted() -> (UnsafeMutableRawPointer, CURLcode)? {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(raw, &remaining) {
            if message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle {
                return (easy, message.pointee.data.result)
            }
        }
        return nil
    }
}

/// Wakes a loop's `curl_multi_poll` from another thread (`curl_multi_wakeup` is thread safe).
/// Valid while the loop's ``MultiHandle`` lives: ``LoopInbox`` calls it only under its lock, before it is closed.
struct LoopWaker: @unchecked Sendable {
    private let raw: UnsafeMutableRawPointer

    init(_ multi: MultiHandle) {
        raw = multi.raw
    }

    func wake() {
        curl_multi_wakeup(raw)
    }
}
