import CCurl
import PollBenchCore

/// A curl multi handle, driven by the sockets that are ready (`curl_multi_socket_action`). Used by one
/// thread at a time; only ``LoopWaker`` may touch it from another.
final class MultiHandle {
    let raw: UnsafeMutableRawPointer
    /// The sockets curl wants watched, and the loop's wakeup.
    let poller: SocketPoller
    /// The connections its easy handles hold open (kept here too: curl closes the last of them in cleanup).
    let sockets: SocketCounter

    init(maxConnections: Int, streamsPerConnection: Int) throws(CurlSetupError) {
        _ = CurlCode.globalInit
        guard let raw = curl_multi_init() else { throw CurlSetupError(description: "curl_multi_init failed") }
        self.raw = raw
        poller = try SocketPoller()
        sockets = SocketCounter(poller: poller)
        try poller.install(on: raw)
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

    /// Runs the transfers whose sockets the last wait found ready, then curl's timers that are due
    /// (a transfer just added starts on its timer).
    func perform() {
        var running: Int32 = 0
        poller.forEachReady { fd, bits in curl_multi_socket_action(raw, fd, bits, &running) }
        if timeoutMilliseconds == 0 { curl_multi_socket_action(raw, CURL_SOCKET_TIMEOUT, 0, &running) }
    }

    /// Sleeps until socket activity, a wakeup, curl's own next timeout or `timeoutMilliseconds`.
    func wait(timeoutMilliseconds limit: Int32) {
        let curlTimeout = timeoutMilliseconds
        poller.wait(timeoutMilliseconds: curlTimeout < 0 ? limit : min(limit, curlTimeout))
    }

    /// When curl's next timer is due, ms (0: now); -1 for none.
    private var timeoutMilliseconds: Int32 {
        var millis = -1
        curl_multi_timeout(raw, &millis)
        return Int32(clamping: millis)
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

/// Wakes a loop's wait from another thread (an eventfd write is thread safe).
/// Valid while the loop's ``MultiHandle`` lives: ``LoopInbox`` calls it only under its lock, before it is closed.
struct LoopWaker: @unchecked Sendable {
    private let poller: SocketPoller

    init(_ multi: MultiHandle) {
        poller = multi.poller
    }

    func wake() {
        poller.wake()
    }
}
