import CCurl
import CEpoll
#if canImport(Glibc)
import Glibc
#endif

/// The sockets one loop's curl asks to have watched (`CURLMOPT_SOCKETFUNCTION`), in an epoll set, and
/// the eventfd other threads wake the loop with. curl then runs only the transfers whose socket is
/// ready (`curl_multi_socket_action`), where `curl_multi_perform` visits every transfer in flight on
/// every turn and asks the kernel about each one's socket.
///
/// A connection's socket stays in the set while the connection idles between requests: curl asks for
/// it again with the next request on that connection, and then no system call is needed. An idle socket
/// that reports something (the server closed it) leaves the set then; a socket curl closes leaves it
/// as curl closes it (``SocketCounter``). Used on the loop's thread only, but for ``wake()``.
final class SocketPoller {
    /// What curl wants of one descriptor, and what the epoll set has for it.
    private struct Watch {
        /// `CURL_POLL_IN`, `_OUT` or `_INOUT`; 0 when curl does not watch it.
        var wanted: Int32 = 0
        /// The epoll events registered; 0 when it is not in the set.
        var registered: UInt32 = 0
        /// A connection's socket (opened and closed through ``SocketCounter``), which may idle in the set.
        var connection = false
    }

    private let epoll: Int32
    private let wakeup: Int32
    private var watches: [Watch] = []
    private let events: UnsafeMutableBufferPointer<epoll_event>
    /// The events the last ``wait(timeoutMilliseconds:)`` returned.
    private var ready = 0

    init() throws(CurlSetupError) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeup = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        events = .allocate(capacity: 512)
        guard epoll >= 0, wakeup >= 0 else {
            throw CurlSetupError(description: "epoll or eventfd failed: \(String(cString: strerror(errno)))")
        }
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeup))
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &event) == 0 else {
            throw CurlSetupError(description: "epoll_ctl failed: \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if epoll >= 0 { close(epoll) }
        if wakeup >= 0 { close(wakeup) }
        events.deallocate()
    }

    /// Wakes the loop's wait; safe from any thread while the poller lives.
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeup, &one, MemoryLayout<UInt64>.size)
    }

    /// Sleeps until a watched socket is ready, a wakeup or `timeoutMilliseconds` (0: does not sleep).
    func wait(timeoutMilliseconds: Int32) {
        let count = epoll_wait(epoll, events.baseAddress, Int32(events.count), timeoutMilliseconds)
        ready = max(0, Int(count))
    }

    /// Calls `act` with each socket curl watches that the last wait found ready, and its
    /// `CURL_CSELECT_*` bits; drops idle sockets that reported from the set.
    func forEachReady(_ act: (curl_socket_t, Int32) -> Void) {
        for index in 0..<ready {
            let event = events[index]
            let fd = event.data.fd
            if fd == wakeup {
                var count: UInt64 = 0
                _ = read(wakeup, &count, MemoryLayout<UInt64>.size)
                continue
            }
            let wanted = watch(fd).wanted
            guard wanted != 0 else {
                unregister(fd)
                continue
            }
            act(fd, Self.selectBits(event.events, wanted: wanted))
        }
        ready = 0
    }

    /// curl's `CURLMOPT_SOCKETFUNCTION` news: it wants `what` of `fd` (`CURL_POLL_REMOVE`: nothing).
    fileprivate func curlWants(_ what: Int32, of fd: curl_socket_t) {
        guard fd >= 0 else { return }
        var watch = self.watch(fd)
        watch.wanted = what == CURL_POLL_REMOVE ? 0 : what
        let events = Self.epollEvents(watch.wanted)
        if watch.wanted == 0 {
            // A connection's socket idles in the set; any other (a resolver's) leaves at once.
            watches[Int(fd)] = watch
            if !watch.connection { unregister(fd) }
            return
        }
        if watch.registered != events {
            var event = epoll_event(events: events, data: epoll_data_t(fd: fd))
            var result = epoll_ctl(epoll, watch.registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event)
            // The kernel dropped a closed descriptor on its own: its number came back for another socket.
            if result != 0, errno == ENOENT { result = epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) }
            if result != 0, errno == EEXIST { result = epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event) }
            watch.registered = result == 0 ? events : 0
        }
        watches[Int(fd)] = watch
    }

    /// A connection's socket was opened: it may idle in the set.
    func connectionOpened(_ fd: curl_socket_t) {
        guard fd >= 0 else { return }
        var watch = self.watch(fd)
        watch.connection = true
        watches[Int(fd)] = watch
    }

    /// A connection's socket is about to be closed: the kernel drops it from the set on close, and its
    /// number may come back for another socket.
    func connectionClosing(_ fd: curl_socket_t) {
        guard fd >= 0, Int(fd) < watches.count else { return }
        watches[Int(fd)] = Watch()
    }

    /// The current record for `fd`, growing the table to reach it.
    private func watch(_ fd: curl_socket_t) -> Watch {
        if Int(fd) >= watches.count { watches.append(contentsOf: repeatElement(Watch(), count: Int(fd) + 1 - watches.count)) }
        return watches[Int(fd)]
    }

    private func unregister(_ fd: curl_socket_t) {
        guard Int(fd) < watches.count, watches[Int(fd)].registered != 0 else { return }
        epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
        watches[Int(fd)].registered = 0
    }

    private static func epollEvents(_ what: Int32) -> UInt32 {
        (what & CURL_POLL_IN != 0 ? EPOLLIN.rawValue : 0) | (what & CURL_POLL_OUT != 0 ? EPOLLOUT.rawValue : 0)
    }

    /// What curl's own poll reads from the same conditions: an error or hang-up makes a socket readable
    /// (the read then tells what happened), and writable when curl waits to write (a failed connect).
    private static func selectBits(_ events: UInt32, wanted: Int32) -> Int32 {
        let failed = events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0
        var bits: Int32 = 0
        if wanted & CURL_POLL_IN != 0, failed || events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 { bits |= CURL_CSELECT_IN }
        if wanted & CURL_POLL_OUT != 0, failed || events & EPOLLOUT.rawValue != 0 { bits |= CURL_CSELECT_OUT }
        return bits
    }

    /// Installs this poller as `multi`'s socket callback.
    func install(on multi: UnsafeMutableRawPointer) throws(CurlSetupError) {
        try pb_multi_setopt_socket_callback(multi, CURLMOPT_SOCKETFUNCTION, socketCallback).check("CURLMOPT_SOCKETFUNCTION")
        try pb_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, Unmanaged.passUnretained(self).toOpaque()).check("CURLMOPT_SOCKETDATA")
    }
}

/// `CURLMOPT_SOCKETFUNCTION`: curl says which socket it wants watched for what.
private func socketCallback(
    _ easy: UnsafeMutableRawPointer?, _ fd: curl_socket_t, _ what: Int32, _ poller: UnsafeMutableRawPointer?, _ socketData: UnsafeMutableRawPointer?
) -> Int32 {
    if let poller { Unmanaged<SocketPoller>.fromOpaque(poller).takeUnretainedValue().curlWants(what, of: fd) }
    return 0
}
