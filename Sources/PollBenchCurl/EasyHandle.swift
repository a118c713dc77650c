import CCurl
import PollBenchCore
import PollBenchRules
#if canImport(Glibc)
import Glibc
#endif

/// One reusable curl easy handle and the buffers of the transfer it carries.
/// Owned by one ``CurlLoop`` and used only on its thread.
final class EasyHandle {
    let raw: UnsafeMutableRawPointer
    /// This handle's place in its loop's pool; stored in `CURLOPT_PRIVATE` to find it on completion.
    let index: Int
    /// The tag of the request it carries.
    var tag = 0
    /// The method of the request it carries.
    private(set) var method = HTTPMethod.get
    /// Times the request was sent again after the server closed a reused connection under it.
    private(set) var retries = 0
    /// Whether the current request asked for its response's Content-Type.
    private var readsServiceHeaders = false

    fileprivate var body: [UInt8] = []
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    // What the handle was last set to, so that a repeat request sets only what changed.
    private var lastMethod: HTTPMethod?
    private var lastHasBody = false
    private var lastTimeout: Duration?
    /// The request's header lines, `Authorization` included: written by pollbench, not by curl's
    /// auth code, which base64-encodes and formats the credentials again for every request.
    private var headerList = RequestHeaderList()
    private var installedHeaders: UnsafeMutablePointer<curl_slist>?
    /// The last credentials' `Authorization` value, encoded once.
    private var authorization: (credentials: BasicCredentials, value: String)?
    /// Counts this handle's connections for its loop; kept for as long as curl may close one of them.
    private let sockets: SocketCounter

    init(index: Int, configuration: CurlTransportConfiguration, sockets: SocketCounter) throws(CurlSetupError) {
        _ = CurlCode.globalInit
        guard let raw = curl_easy_init() else { throw CurlSetupError(description: "curl_easy_init failed") }
        self.raw = raw
        self.index = index
        self.sockets = sockets
        errorBuffer.initialize(to: 0)
        let me = Unmanaged.passUnretained(self).toOpaque()
        try pb_easy_setopt_long(raw, CURLOPT_NOSIGNAL, 1).check("CURLOPT_NOSIGNAL")
        try pb_easy_setopt_ptr(raw, CURLOPT_PRIVATE, UnsafeRawPointer(bitPattern: index + 1)).check("CURLOPT_PRIVATE")
        try pb_easy_setopt_ptr(raw, CURLOPT_ERRORBUFFER, errorBuffer).check("CURLOPT_ERRORBUFFER")
        try pb_easy_setopt_write_callback(raw, CURLOPT_WRITEFUNCTION, easyWriteBody).check("CURLOPT_WRITEFUNCTION")
        try pb_easy_setopt_ptr(raw, CURLOPT_WRITEDATA, me).check("CURLOPT_WRITEDATA")
        try sockets.watch(raw)
        // Wait for a multiplexed HTTP/2 stream rather than open a connection (the multi handle caps streams per connection).
        let version = switch configuration.httpVersion {
        case .http1: CURL_HTTP_VERSION_1_1
        case .http2: CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE  // over TLS, ALPN still decides
        case .auto: CURL_HTTP_VERSION_2TLS
        }
        try pb_easy_setopt_long(raw, CURLOPT_HTTP_VERSION, version).check("CURLOPT_HTTP_VERSION")
        try pb_easy_setopt_long(raw, CURLOPT_PIPEWAIT, 1).check("CURLOPT_PIPEWAIT")
        try pb_easy_setopt_long(raw, CURLOPT_SSL_VERIFYPEER, configuration.verifyPeer ? 1 : 0).check("CURLOPT_SSL_VERIFYPEER")
        try pb_easy_setopt_long(raw, CURLOPT_SSL_VERIFYHOST, configuration.verifyPeer ? 2 : 0).check("CURLOPT_SSL_VERIFYHOST")
        if let path = configuration.caBundlePath {
            try path.withCString { pb_easy_setopt_ptr(raw, CURLOPT_CAINFO, $0) }.check("CURLOPT_CAINFO")
        }
        if let pem = configuration.caCertificatesPEM {
            // CURL_BLOB_COPY: curl keeps its own copy, so the bytes need live only for the call.
            try pem.utf8CString.withUnsafeBufferPointer { bytes in
                var blob = curl_blob(data: UnsafeMutableRawPointer(mutating: bytes.baseAddress), len: bytes.count - 1, flags: UInt32(CURL_BLOB_COPY))
                return pb_easy_setopt_ptr(raw, CURLOPT_CAINFO_BLOB, &blob)
            }.check("CURLOPT_CAINFO_BLOB")
        }
        try configuration.userAgent.withCString { pb_easy_setopt_ptr(raw, CURLOPT_USERAGENT, $0) }.check("CURLOPT_USERAGENT")
        // No proxy: said once, or curl reads the proxy variables again for every request.
        if !configuration.usesEnvironmentProxy || !Self.environmentNamesProxy {
            try "".withCString { pb_easy_setopt_ptr(raw, CURLOPT_PROXY, $0) }.check("CURLOPT_PROXY")
        }
        body.reserveCapacity(16 * 1024)
    }

    deinit {
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// Sets the handle up for `request`, touching only the options that differ from its last request.
    func prepare(_ request: HTTPRequest, tag: Int) throws(CurlSetupError) {
        self.tag = tag
        method = request.method
        readsServiceHeaders = request.readsServiceHeaders
        retries = 0
        clearResponse()
        try request.url.withCString { pb_easy_setopt_ptr(raw, CURLOPT_URL, $0) }.check("CURLOPT_URL")
        // A POST always carries a body, if only an empty one, so that curl sends Content-Length.
        let body = request.body ?? (request.method == .post ? [] : nil)
        if request.method != lastMethod || body != nil || lastHasBody {
            try setMethod(request.method, body: body)
        }
        try setHeaders(request.headers, hasBody: body != nil, credentials: request.credentials)
        lastHasBody = body != nil
        if request.timeout != lastTimeout {
            let millis = max(1, Int(request.timeout.components.seconds * 1_000 + request.timeout.components.attoseconds / 1_000_000_000_000_000))
            try pb_easy_setopt_long(raw, CURLOPT_TIMEOUT_MS, millis).check("CURLOPT_TIMEOUT_MS")
            lastTimeout = request.timeout
        }
    }

    /// Readies the same request to be sent again: its options stay, what came back is dropped.
    func rearmForRetry() {
        retries += 1
        clearResponse()
    }

    private func clearResponse() {
        body.removeAll(keepingCapacity: true)
        errorBuffer[0] = 0
    }

    /// The header fields pollbench reads, from curl's own store of the last response's headers
    /// (`curl_easy_header`): for a response that is not a success, `Retry-After`, and `Date` for reading
    /// an HTTP-date `Retry-After`; `Content-Type` and the announced time scale when the request asked. No header callback runs per
    /// line of every response.
    private func headers(status: Int) -> ResponseHeaders {
        var headers = ResponseHeaders()
        if readsServiceHeaders {
            headers.contentType = header("Content-Type")
            headers.timeScale = header(ModelClock.timeScaleHeader)
        }
        if status >= 300, let retryAfter = header("Retry-After") {
            headers.retryAfter = retryAfter
            headers.date = header("Date")
        }
        return headers
    }

    private func header(_ name: String) -> String? {
        var found: UnsafeMutablePointer<curl_header>?
        guard curl_easy_header(raw, name, 0, curlHeaderOriginServer, -1, &found) == CURLHE_OK, let value = found?.pointee.value else { return nil }
        return String(cString: value)
    }

    private func setMethod(_ method: HTTPMethod, body: [UInt8]?) throws(CurlSetupError) {
        if let body {
            try pb_easy_setopt_long(raw, CURLOPT_POST, 1).check("CURLOPT_POST")
            try pb_easy_setopt_off_t(raw, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)).check("CURLOPT_POSTFIELDSIZE_LARGE")
            let copied = body.isEmpty
                ? "".withCString { pb_easy_setopt_ptr(raw, CURLOPT_COPYPOSTFIELDS, $0) }
                : body.withUnsafeBytes { pb_easy_setopt_ptr(raw, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
            try copied.check("CURLOPT_COPYPOSTFIELDS")
        } else {
            try pb_easy_setopt_long(raw, CURLOPT_HTTPGET, 1).check("CURLOPT_HTTPGET")
        }
        let custom: String? = switch method {
        case .get: body == nil ? nil : "GET"
        case .post: nil
        case .delete: "DELETE"
        }
        if let custom {
            try custom.withCString { pb_easy_setopt_ptr(raw, CURLOPT_CUSTOMREQUEST, $0) }.check("CURLOPT_CUSTOMREQUEST")
        } else {
            try pb_easy_setopt_ptr(raw, CURLOPT_CUSTOMREQUEST, nil).check("CURLOPT_CUSTOMREQUEST")
        }
        lastMethod = method
    }

    private func setHeaders(_ fields: [HTTPHeader], hasBody: Bool, credentials: BasicCredentials?) throws(CurlSetupError) {
        headerList.begin()
        for field in fields {
            headerList.append(field.name, field.value)
        }
        if hasBody {
            if !fields.contains(where: { $0.name.lowercased() == "content-type" }) {
                headerList.append("Content-Type", "application/json")
            }
            headerList.append(line: "Expect:")  // no 100-continue round trip before a body
        }
        if let credentials {
            let value = authorization.flatMap { $0.credentials == credentials ? $0.value : nil } ?? credentials.authorization
            authorization = (credentials, value)
            headerList.append("Authorization", value)
        }
        let head = headerList.finish()
        if head != installedHeaders {
            try pb_easy_setopt_ptr(raw, CURLOPT_HTTPHEADER, head).check("CURLOPT_HTTPHEADER")
            installedHeaders = head
        }
    }

    /// The result of the finished transfer: a response, or the transport error curl reported.
    func finish(_ code: CURLcode) -> HTTPResult {
        guard code == CURLE_OK else {
            return .failure(CurlCode.transportError(code, message: String(cString: errorBuffer)))
        }
        var status = 0
        var connects = 0
        var version = 0
        _ = pb_easy_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &status)
        _ = pb_easy_getinfo_long(raw, CURLINFO_NUM_CONNECTS, &connects)
        _ = pb_easy_getinfo_long(raw, CURLINFO_HTTP_VERSION, &version)
        // The connection's phases only where this transfer opened one: a reused connection has none to report.
        let opened = connects > 0
        let timing = TransferTiming(
            dnsMicros: opened ? info(CURLINFO_NAMELOOKUP_TIME_T) : 0,
            connectMicros: opened ? info(CURLINFO_CONNECT_TIME_T) : 0,
            tlsMicros: opened ? info(CURLINFO_APPCONNECT_TIME_T) : 0,
            requestSentMicros: info(CURLINFO_PRETRANSFER_TIME_T),
            firstByteMicros: info(CURLINFO_STARTTRANSFER_TIME_T),
            totalMicros: info(CURLINFO_TOTAL_TIME_T)
        )
        // A copy of just the body's bytes: sharing the handle's 16 KiB buffer would make the next
        // transfer's `removeAll(keepingCapacity:)` allocate a fresh one.
        return .success(
            HTTPResponse(
                status: status, headers: headers(status: status), body: body.withUnsafeBufferPointer { Array($0) }, timing: timing, openedConnection: opened, httpVersion: Self.versionName(version),
                retries: retries
            )
        )
    }

    /// Whether the environment names a proxy that curl would use for HTTP or HTTPS (read once).
    private static let environmentNamesProxy = ["http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"].contains { (name: String) in
        getenv(name).map { $0.pointee != 0 } ?? false
    }

    /// `CURLINFO_HTTP_VERSION`'s answer as results name it.
    private static func versionName(_ version: Int) -> String? {
        switch version {
        case Int(CURL_HTTP_VERSION_1_0): "1.0"
        case Int(CURL_HTTP_VERSION_1_1): "1.1"
        case Int(CURL_HTTP_VERSION_2_0): "2"
        case CURL_HTTP_VERSION_3: "3"
        default: nil
        }
    }

    private func info(_ key: CURLINFO) -> Int64 {
        var value: curl_off_t = 0
        _ = pb_easy_getinfo_off_t(raw, key, &value)
        return Int64(value)
    }

    /// Finds the handle behind a `CURLOPT_WRITEDATA`/`CURLOPT_HEADERDATA` pointer.
    fileprivate static func from(_ userdata: UnsafeMutableRawPointer?) -> EasyHandle? {
        userdata.map { Unmanaged<EasyHandle>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// `CURLOPT_WRITEFUNCTION`: appends into the handle's reused buffer. Returning less than given aborts the transfer.
private func easyWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let handle = EasyHandle.from(userdata), let data else { return 0 }
    let length = size * count
    handle.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
    return length
}

/// `CURLH_HEADER`, a shifted macro that Swift does not import: a plain server header.
private let curlHeaderOriginServer: UInt32 = 1
