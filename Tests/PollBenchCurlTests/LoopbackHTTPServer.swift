import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 server on 127.0.0.1 for transport tests: keep-alive, a thread per
/// connection, and a count of accepted TCP connections. Routes:
/// - `/echo…`: 200, body = the request target (GET) or the request body (POST);
/// - `/big/N`: 200 with N bytes of `i % 251`;
/// - `/status/CODE?retry-after=V`: that status, with `Retry-After: V` (`+` reads as a space);
/// - `/hang`: reads the request and never answers;
/// - `/close`: closes the connection without answering;
/// - `/truncate`: declares 100 bytes, sends 10, closes.
final class LoopbackHTTPServer: Sendable {
    let port: UInt16
    private let listener: Int32
    private let accepted = Atomic<Int>(0)
    private let open = Mutex<Set<Int32>>([])

    /// Connections accepted so far.
    var connectionsAccepted: Int { accepted.load(ordering: .relaxed) }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1024) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// The URL of `path` on this server.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Stops accepting and closes every open connection. The listener is only shut down here: the accept
    /// thread closes it on its way out, so its descriptor number cannot be reused by another test's
    /// server while that thread might still call accept on it.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        open.withLock { fds in
            for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else {
                close(listener)
                return
            }
            accepted.add(1, ordering: .relaxed)
            open.withLock { _ = $0.insert(fd) }
            Thread.detachNewThread { [self] in
                serve(fd)
                open.withLock { _ = $0.remove(fd) }
                close(fd)
            }
        }
    }

    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        while let (target, method, body) = readRequest(fd, &buffer) {
            if target == "/hang" {
                var byte: UInt8 = 0
                while recv(fd, &byte, 1, 0) > 0 {}
                return
            }
            if target == "/close" { return }
            if target == "/truncate" {
                send(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".utf8))
                return
            }
            var status = 200
            var extra = ""
            var reply: [UInt8]
            if target.hasPrefix("/big/"), let size = Int(target.dropFirst(5)) {
                reply = (0..<size).map { UInt8($0 % 251) }
            } else if target.hasPrefix("/status/") {
                let parts = target.dropFirst(8).split(separator: "?", maxSplits: 1)
                status = Int(parts[0]) ?? 500
                if parts.count == 2, parts[1].hasPrefix("retry-after=") {
                    extra = "Retry-After: \(parts[1].dropFirst(12).replacingOccurrences(of: "+", with: " "))\r\n"
                }
                reply = Array(#"{"status":\#(status)}"#.utf8)
            } else {
                reply = method == "POST" ? body : Array(target.utf8)
            }
            let head = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\n\(extra)Content-Length: \(reply.count)\r\n\r\n"
            send(fd, Array(head.utf8) + reply)
        }
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Reads one request: its target, method and body; nil when the peer closed.
    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> (String, String, [UInt8])? {
        let separator = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while true {
            if let end = buffer.firstRange(of: separator)?.upperBound { headEnd = end; break }
            guard receive(fd, &buffer) else { return nil }
        }
        guard let end = headEnd else { return nil }
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        guard requestLine.count >= 2 else { return nil }
        let length = lines.dropFirst()
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
        while buffer.count < end + length {
            guard receive(fd, &buffer) else { return nil }
        }
        let body = Array(buffer[end..<(end + length)])
        buffer.removeFirst(end + length)
        return (String(requestLine[1]), String(requestLine[0]), body)
    }

    private func receive(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }
}
