/// Which HTTP version the client asks for.
public enum HTTPVersionChoice: String, Sendable, CaseIterable {
    /// HTTP/1.1 only: one request per connection at a time.
    case http1 = "1.1"
    /// HTTP/2: negotiated by ALPN over TLS, with prior knowledge (h2c) over plain HTTP.
    case http2 = "2"
    /// HTTP/2 where TLS's ALPN offers it, HTTP/1.1 otherwise (plain HTTP is always 1.1).
    case auto
}

/// How the libcurl transport connects: threads, pool sizes and TLS.
public struct CurlTransportConfiguration: Sendable {
    /// Worker threads, each with its own multi handle and handle pool.
    public var workers: Int
    /// Easy handles per worker: the most requests one worker has on the wire at once,
    /// and the connections it keeps alive. Further requests wait in the worker's queue.
    public var connectionsPerWorker: Int
    /// A CA bundle file to verify servers with instead of the system's.
    public var caBundlePath: String?
    /// PEM certificates to verify servers with, in memory (the embedded sandbox's own), instead of a file.
    public var caCertificatesPEM: String?
    /// The HTTP version to ask for.
    public var httpVersion: HTTPVersionChoice
    /// The most HTTP/2 streams curl puts on one connection before it opens another
    /// (`CURLMOPT_MAX_CONCURRENT_STREAMS`; the server's own limit applies too).
    public var streamsPerConnection: Int
    /// Whether to verify the server's certificate and host name. Turning it off is an explicit opt-out.
    public var verifyPeer: Bool
    /// The `User-Agent` header.
    public var userAgent: String
    /// Whether a proxy named in the environment (`http_proxy`, `https_proxy`, `all_proxy`) carries the
    /// requests, as curl does by default. Off for loopback peers pollbench runs itself (the embedded
    /// sandbox, the webhook receiver): curl does not exempt 127.0.0.1, and a stray variable would send
    /// the whole run through a proxy.
    public var usesEnvironmentProxy = true

    /// The default cap on streams per HTTP/2 connection: see the transport benchmark (libcurl 7.88's cost per
    /// transfer grows with the streams on a connection, so a few busy connections beat one crowded one).
    public static let defaultStreamsPerConnection = 100

    /// Creates a configuration; the defaults suit a single-threaded client with 64 connections.
    public init(
        workers: Int = 1,
        connectionsPerWorker: Int = 64,
        caBundlePath: String? = nil,
        caCertificatesPEM: String? = nil,
        httpVersion: HTTPVersionChoice = .auto,
        streamsPerConnection: Int = CurlTransportConfiguration.defaultStreamsPerConnection,
        verifyPeer: Bool = true,
        userAgent: String = "pollbench"
    ) {
        self.workers = workers
        self.connectionsPerWorker = connectionsPerWorker
        self.caBundlePath = caBundlePath
        self.caCertificatesPEM = caCertificatesPEM
        self.httpVersion = httpVersion
        self.streamsPerConnection = streamsPerConnection
        self.verifyPeer = verifyPeer
        self.userAgent = userAgent
    }
}
