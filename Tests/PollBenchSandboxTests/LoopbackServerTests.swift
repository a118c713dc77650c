import Foundation
import PollBenchCore
import PollBenchCurl
@testable import PollBenchHTTPServer
import PollBenchRules
import Testing

@Suite("The HTTP server: its Date header, body limit and graceful stop")
struct LoopbackServerTests {
    /// Answers `METHOD PATH BODY-BYTES` after `hold` (413 for a body over 16 bytes, with a `Retry-After`
    /// so that the client reads its `Date`), and tells `began`
    /// each path it is asked for.
    struct HeldResponder: LoopbackResponder {
        let hold: Duration
        let began: AsyncStream<String>.Continuation
        var maxBodyBytes: Int { 16 }

        func respond(to request: LoopbackRequest) -> LoopbackResponse {
            began.yield(request.path)
            guard let body = request.body else { return LoopbackResponse(status: 413, headers: [("Retry-After", "1")]) }
            return LoopbackResponse(status: 200, body: Array("\(request.method) \(request.path) \(body.count)".utf8), delay: hold)
        }
    }

    @Test("the Date header is IMF-fixdate: known days, and a round trip through the client's parser")
    func dates() {
        #expect(HTTPDateHeader.format(epochSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDateHeader.format(epochSeconds: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDateHeader.format(epochSeconds: 1_796_169_599) == "Tue, 01 Dec 2026 23:59:59 GMT")
        var random = SplitMix64(seed: 19)
        for _ in 0..<2_000 {
            let seconds = Int(random.next() % 4_102_444_800)  // up to 2100
            #expect(HTTPDate.epochSeconds(HTTPDateHeader.format(epochSeconds: seconds)) == Int64(seconds))
        }
    }

    @Test("a body over the limit reaches the responder as nil; a query is not part of the path; answers carry the Date")
    func framing() async throws {
        let (began, announce) = AsyncStream<String>.makeStream()
        let server = try await LoopbackServer.start(responder: HeldResponder(hold: .zero, began: announce), host: "127.0.0.1", port: 0)
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 2))
        defer { transport.shutdown() }
        let url = "http://127.0.0.1:\(server.port)/echo"
        let small = try await transport.execute(HTTPRequest(method: .post, url: url + "?x=1", body: Array("0123456789".utf8), timeout: .seconds(60))).get()
        #expect(small.status == 200)
        #expect(String(decoding: small.body, as: UTF8.self) == "POST /echo 10")
        let large = try await transport.execute(HTTPRequest(method: .post, url: url, body: Array(repeating: 0x41, count: 17), timeout: .seconds(60))).get()
        #expect(large.status == 413)
        let date = try #require(large.headers.date.flatMap(HTTPDate.epochSeconds))
        #expect(abs(date - Int64(Date().timeIntervalSince1970)) < 60)  // the wall clock, not a model or a zero time
        await server.stop()
        announce.finish()
        var paths: [String] = []
        for await path in began { paths.append(path) }
        #expect(paths == ["/echo", "/echo"])
    }

    @Test("a stop lets an answer in flight finish, then no new connection is taken")
    func gracefulStop() async throws {
        let (began, announce) = AsyncStream<String>.makeStream()
        let server = try await LoopbackServer.start(responder: HeldResponder(hold: .milliseconds(300), began: announce), host: "127.0.0.1", port: 0)
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(connectionsPerWorker: 2))
        defer { transport.shutdown() }
        let url = "http://127.0.0.1:\(server.port)/held"
        async let answer = transport.execute(HTTPRequest(method: .get, url: url, timeout: .seconds(60)))
        var iterator = began.makeAsyncIterator()
        #expect(await iterator.next() == "/held")  // the request is being answered: stop now
        await server.stop()
        let held = try await answer.get()
        #expect(held.status == 200)
        #expect(String(decoding: held.body, as: UTF8.self) == "GET /held 0")
        let after = await transport.execute(HTTPRequest(method: .get, url: url, timeout: .seconds(60)))
        #expect(throws: (any Error).self) { try after.get() }
    }
}
