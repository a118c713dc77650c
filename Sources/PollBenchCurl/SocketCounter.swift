import CCurl
#if canImport(Glibc)
import Glibc
#endif

/// The connections one loop's libcurl holds open, counted as curl opens and closes their sockets (its
/// `CURLOPT_SOCKOPTFUNCTION` and `CURLOPT_CLOSESOCKETFUNCTION`): the harness's own connection count.
/// Used on the loop's thread only. The multi handle and every easy handle keep it, so that it outlives
/// the last socket curl closes, whichever of them goes last.
final class SocketCounter {
    private(set) var open = 0
    /// Told of each connection's socket as it opens and closes (an idle one may stay in its set).
    private let poller: SocketPoller

    init(poller: SocketPoller) {
        self.poller = poller
    }

    /// Counts the sockets opened and closed through `handle` into this counter.
    func watch(_ handle: UnsafeMutableRawPointer) throws(CurlSetupError) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        try pb_easy_setopt_sockopt_callback(handle, CURLOPT_SOCKOPTFUNCTION, socketOpened).check("CURLOPT_SOCKOPTFUNCTION")
        try pb_easy_setopt_ptr(handle, CURLOPT_SOCKOPTDATA, me).check("CURLOPT_SOCKOPTDATA")
        try pb_easy_setopt_closesocket_callback(handle, CURLOPT_CLOSESOCKETFUNCTION, socketClosing).check("CURLOPT_CLOSESOCKETFUNCTION")
        try pb_easy_setopt_ptr(handle, CURLOPT_CLOSESOCKETDATA, me).check("CURLOPT_CLOSESOCKETDATA")
    }

    fileprivate func opened(_ socket: curl_socket_t) {
        open += 1
        poller.connectionOpened(socket)
    }

    fileprivate func closing(_ socket: curl_socket_t) {
        open -= 1
        poller.connectionClosing(socket)
    }
}

/// A socket for a connection was made (curl calls this for no other kind over HTTP).
private func socketOpened(_ counter: UnsafeMutableRawPointer?, _ socket: curl_socket_t, _ purpose: curlsocktype) -> Int32 {
    if purpose == CURLSOCKTYPE_IPCXN, let counter { Unmanaged<SocketCounter>.fromOpaque(counter).takeUnretainedValue().opened(socket) }
    return 0  // CURL_SOCKOPT_OK
}

/// curl closes a socket: this callback does it in its place.
private func socketClosing(_ counter: UnsafeMutableRawPointer?, _ socket: curl_socket_t) -> Int32 {
    if let counter { Unmanaged<SocketCounter>.fromOpaque(counter).takeUnretainedValue().closing(socket) }
    return close(socket)
}
