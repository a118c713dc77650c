import Foundation
import PollBenchCore
@testable import PollBenchCurl
import PollBenchRules
import Synchronization
import Testing

@Suite("libcurl transport over loopback")
struct CurlTransportTests {
    @Test("1,000 concurrent requests complete with their own bodies over a pool of kept-alive connections")
    func thousandConcurrentRequests() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(workers: 2, connectionsPerWorker: 8))
        defer { transport.shutdown() }

        let bodies = await withTaskGroup(of: (Int, String?).self) { group in
            for id in 0..<1_000 {
                group.addTask {
                    let result = await transport.execute(HTTPRequest(url: server.url("/echo?id=\(id)")))
                    return (id, try? String(decoding: result.get().body, as: UTF8.self))
                }
            }
            var bodies: [Int: String?] = [:]
            for await (id, body) in group { bodies[id] = body }
            return bodies
        }

        #expect(bodies.count == 1_000)
        for id in 0..<1_000 {
            #expect(bodies[id] == "/echo?id=\(id)")
        }
        // Two workers of eight handles each: sixteen connections, every one reused.
        #expect(server.connectionsAccepted == 16)
    }

    @Test("POST sends the JSON body with its content type and Basic credentials")
    func postWithBody() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 2))
        defer { transport.shutdown() }
        let body = Array(#"{"providerId":"bankidse"}"#.utf8)
        let request = HTTPRequest(
            method: .post, url: server.url("/echo"), body: body,
            credentials: BasicCredentials(clientID: "abcd1234", clientSecret: "s3cret")
        )

        let response = try await transport.execute(request).get()

        #expect(response.status == 200)
        #expect(response.body == body)
        #expect(response.openedConnection)
        let timing = try #require(response.timing)
        #expect(timing.totalMicros >= timing.firstByteMicros && timing.firstByteMicros >= timing.requestSentMicros && timing.requestSentMicros >= timing.connectMicros)
        #expect(response.httpVersion == "1.1" && response.retries == 0)
    }

    /// The second request goes out from the first's completion, on the transport's own thread: awaiting
    /// in between could leave the connection idle for as long as other tests hold the test threads, and
    /// past libcurl's idle age (`CURLOPT_MAXAGE_CONN`, 118 s) curl rightly opens a new one.
    @Test("a second request on the same handle reuses the connection")
    func keepAliveReuse() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 1))
        defer { transport.shutdown() }

        let (firstResult, secondResult) = await withCheckedContinuation { (continuation: CheckedContinuation<(HTTPResult, HTTPResult), Never>) in
            transport.execute(HTTPRequest(url: server.url("/echo/1"))) { firstResult in
                transport.execute(HTTPRequest(method: .delete, url: server.url("/echo/2"))) { continuation.resume(returning: (firstResult, $0)) }
            }
        }
        let first = try firstResult.get(), second = try secondResult.get()

        #expect(first.openedConnection)
        #expect(!second.openedConnection)
        #expect(String(decoding: second.body, as: UTF8.self) == "/echo/2")
        #expect(server.connectionsAccepted == 1)
    }

    @Test("a closed port fails fast as connection-refused")
    func closedPort() async throws {
        let server = try LoopbackHTTPServer()
        let url = server.url("/echo")
        server.stop()
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 1))
        defer { transport.shutdown() }

        let (result, elapsed) = await transport.timedExecute(HTTPRequest(url: url, timeout: .seconds(10)))

        #expect(elapsed < .seconds(2))
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .connectionRefused)
        #expect(error.code == 7)
        #expect(!error.message.isEmpty)
    }

    @Test("a server that never answers trips the request timeout")
    func timeout() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 2))
        defer { transport.shutdown() }

        let (result, elapsed) = await transport.timedExecute(HTTPRequest(url: server.url("/hang"), timeout: .milliseconds(300)))

        #expect(elapsed >= .milliseconds(280))  // curl keeps its timers in whole milliseconds
        #expect(elapsed < .seconds(3))
        #expect((try? result.get()) == nil)
        if case .failure(let error) = result { #expect(error.kind == .timeout) }
    }

    @Test("closed and truncated responses map to their own error kinds")
    func brokenResponses() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 2))
        defer { transport.shutdown() }

        let closed = await transport.execute(HTTPRequest(url: server.url("/close")))
        let truncated = await transport.execute(HTTPRequest(url: server.url("/truncate")))

        if case .failure(let error) = closed { #expect(error.kind == .connectionReset) } else { Issue.record("closed: \(closed)") }
        if case .failure(let error) = truncated { #expect(error.kind == .truncated) } else { Issue.record("truncated: \(truncated)") }
    }

    @Test("large bodies arrive whole", arguments: [1 << 16, 5 << 20])
    func largeBody(size: Int) async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 1))
        defer { transport.shutdown() }

        let response = try await transport.execute(HTTPRequest(url: server.url("/big/\(size)"))).get()

        #expect(response.body.count == size)
        #expect(response.body.enumerated().allSatisfy { $0.element == UInt8($0.offset % 251) })
    }

    @Test("Retry-After arrives in both forms and parses")
    func retryAfterHeader() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 1))
        defer { transport.shutdown() }

        let seconds = try await transport.execute(HTTPRequest(url: server.url("/status/429?retry-after=7"))).get()
        let date = try await transport.execute(HTTPRequest(url: server.url("/status/503?retry-after=Wed,+21+Oct+2015+07:28:00+GMT"))).get()

        #expect(seconds.status == 429)
        #expect(seconds.headers.retryAfter.flatMap(RetryAfter.init(headerValue:)) == .seconds(7))
        #expect(date.status == 503)
        #expect(date.headers.retryAfter.flatMap(RetryAfter.init(headerValue:)) == .date(epochSeconds: 1_445_412_480))
    }

    @Test("a driver runs inside each worker's loop and sees every completion on its own thread")
    func loopDrivers() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let counts = try CurlTransport.run(
            configuration: CurlTransportConfiguration(workers: 2, connectionsPerWorker: 4),
            makeDriver: { worker in CountingDriver(server: server, path: "/echo?w=\(worker)", total: 200) },
            collect: { ($0.succeeded, $0.wrongBodies) }
        )

        #expect(counts.count == 2)
        #expect(counts.allSatisfy { $0.0 == 200 && $0.1 == 0 })
        #expect(server.connectionsAccepted == 8)
    }

    @Test("an unparseable URL is an invalid-request error, not a crash")
    func malformedURL() async throws {
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 1))
        defer { transport.shutdown() }

        let result = await transport.execute(HTTPRequest(url: "ht!tp://nowhere"))

        if case .failure(let error) = result { #expect(error.kind == .invalidRequest) } else { Issue.record("got \(result)") }
    }
}

/// Sends `total` GETs, at most four at a time, checking every body.
private final class CountingDriver: TransportLoopDriver {
    let url: String
    let path: String
    let total: Int
    var sent = 0
    var succeeded = 0
    var wrongBodies = 0

    init(server: LoopbackHTTPServer, path: String, total: Int) {
        url = server.url(path)
        self.path = path
        self.total = total
    }

    func loopDidStart(_ loop: any TransportLoop) {
        for _ in 0..<4 { sendNext(loop) }
    }

    func requestDidFinish(tag: Int, result: HTTPResult, loop: any TransportLoop) {
        if case .success(let response) = result {
            succeeded += 1
            if String(decoding: response.body, as: UTF8.self) != path {
                wrongBodies += 1
            }
        }
        sendNext(loop)
    }

    func turn(_ loop: any TransportLoop) -> LoopTurn {
        sent < total ? .wait(nanoseconds: 100_000_000) : .finished
    }

    private func sendNext(_ loop: any TransportLoop) {
        guard sent < total else { return }
        sent += 1
        loop.submit(HTTPRequest(url: url), tag: sent)
    }
}

extension CurlTransport {
    /// Sends a request and times it from submission to the completion callback on the transport's own
    /// thread, so the figure does not include waiting for the test's task to be scheduled again.
    func timedExecute(_ request: HTTPRequest) async -> (HTTPResult, Duration) {
        await withCheckedContinuation { continuation in
            let started = ContinuousClock.now
            execute(request) { result in continuation.resume(returning: (result, ContinuousClock.now - started)) }
        }
    }
}
