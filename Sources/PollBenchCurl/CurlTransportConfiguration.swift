/// How the libcurl transport connects: threads, pool sizes and TLS.
public struct CurlTransportConfiguration: Sendable {
    /// Worker threads, each with its own multi handle and handle pool.
    public var workers: Int
    /// Easy handles per worker: the most requests one worker has on the wire at once,
    /// and the connections it keeps alive. Further requests wait in the worker's queue.
    public var connectionsPerWorker: Int
    /// A CA bundle file to verify servers with instead of the system's.
    public var caBundlePath: String?
    /// Whether to verify the server's certificate and host name. Turning it off is an explicit opt-out.
    public var verifyPeer: Bool
    /// The `User-Agent` header.
    public var userAgent: String

    /// Creates a configuration; the defaults suit a single-threaded client with 64 connections.
    public init(
        workers: Int = 1,
        connectionsPerWorker: Int = 64,
        caBundlePath: String? = nil,
        verifyPeer: Bool = true,
        userAgent: String = "pollbench"
    ) {
        self.workers = workers
        self.connectionsPerWorker = connectionsPerWorker
        self.caBundlePath = caBundlePath
        self.verifyPeer = verifyPeer
        self.userAgent = userAgent
    }
}
