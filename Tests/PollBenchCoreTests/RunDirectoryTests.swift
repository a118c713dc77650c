import Foundation
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

@Suite("Run directories: never written over, idle time costs nothing")
struct RunDirectoryTests {
    func temporaryRoot() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("pb-rundir-\(UUID().uuidString)")
    }

    @Test("two runs started in the same millisecond get two directories; an existing one is never reused")
    func exclusive() throws {
        let root = temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let started: Int64 = 1_764_600_000_123
        let first = try ResultWriter.createRunDirectory(root: root.path, name: "simulate", startedMillis: started)
        let second = try ResultWriter.createRunDirectory(root: root.path, name: "simulate", startedMillis: started)
        let third = try ResultWriter.createRunDirectory(root: root.path, name: "simulate", startedMillis: started)
        #expect(first.lastPathComponent == "20251201T144000Z-simulate")
        #expect(second.lastPathComponent == "20251201T144000Z-simulate-2" && third.lastPathComponent == "20251201T144000Z-simulate-3")
        #expect(throws: RunDirectoryError.self) { try ResultWriter.createExclusively(first) }
        // A root that is a file: one line naming it.
        let file = root.appendingPathComponent("file")
        try Data().write(to: file)
        #expect(throws: RunDirectoryError.self) { try ResultWriter.createRunDirectory(root: file.path, name: "x", startedMillis: started) }
    }

    @Test("timeseries.csv has a row only for seconds in which something happened, and reads back second for second")
    func sparseTimeseries() throws {
        let root = temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let strategy = PollStrategy.fixed(intervalMillis: 3_000)
        var recorder = StrategyRecorder()
        recorder.countStart(interval: 0)
        recorder.countStart(interval: 5_000)  // a long idle gap between two arrivals
        let result = StrategyResult(strategy: strategy, recorder: recorder, timeline: IntervalTimeline(clock: .wall(scale: 1), originNanos: 0, intervalNanos: 1_000_000_000, offsetSeconds: 0))
        let csv = ResultWriter.timeseries([result])
        #expect(csv.split(separator: "\n").count == 3)  // the header and the two seconds with an arrival
        #expect(csv.contains("\"fixed:3s\",5000,0,0,1,0,2"))

        var record = try SampleRecord.make(strategies: ["fixed:3s"])
        record.strategies[0].name = strategy.name
        let directory = try ResultWriter.createRunDirectory(root: root.path, name: "sparse", startedMillis: 0)
        try ResultWriter(directory: directory).writeAll(record: record, results: [result], startEpochSeconds: 0)
        let read = try RunDirectory.read(directory)
        #expect(read.series[0].seconds.count == 5_001)
        #expect(read.series[0].seconds[5_000].started == 1 && read.series[0].seconds[4_999] == SecondBucket())
    }

    @Test("a simulation whose arrivals run past the model-time cap is refused before it runs")
    func simulatedSpan() throws {
        var suite = Suite(name: "t", description: "", workload: Workload(sessions: 2, arrival: .constant(perSecond: 0.0000001), seed: 1))
        #expect(suite.simulatedSpanCapMillis == 30_000_000)  // 10 min at 50x
        #expect(throws: WorkloadError.self) { try suite.checkSimulatedSpan() }
        suite.workload.arrival = .constant(perSecond: 3)
        try suite.checkSimulatedSpan()
    }
}

@Suite("The preflight of a remote target")
struct TargetPreflightTests {
    let preflight = TargetPreflight(baseURL: "http://127.0.0.1:9/api/v1", credentials: BasicCredentials(clientID: "ID", clientSecret: "S"))

    func answer(_ status: Int, _ body: String, contentType: String? = "application/json") -> HTTPResult {
        .success(HTTPResponse(status: status, headers: ResponseHeaders(contentType: contentType), body: Array(body.utf8)))
    }

    @Test("it asks for the provider list with the run's credentials and the content type, within its own limit")
    func request() {
        let request = preflight.request
        #expect(request.url == "http://127.0.0.1:9/api/v1/providers" && request.method == .get && request.readsServiceHeaders)
        #expect(request.credentials?.clientID == "ID" && request.timeout == .seconds(5))
    }

    @Test("the API's provider list: the ids; no list served, or a server error: nothing to check")
    func accepted() throws {
        #expect(try preflight.judge(answer(200, #"[{"id":"bankidse","name":"BankID"},{"id":"mitid"}]"#)).providers == ["bankidse", "mitid"])
        #expect(try preflight.judge(answer(404, "not found", contentType: "text/html")) == TargetPreflight.Findings())
        #expect(try preflight.judge(answer(503, #"{"code":400005}"#)).providers == nil)
    }

    @Test("a pollbench sandbox's announced time scale is adopted, and at any scale it is known for a pollbench sandbox; one that is not a scale is refused")
    func timeScale() throws {
        var announced = ResponseHeaders(contentType: "application/json", timeScale: "10")
        let list = Array(#"[{"id":"bankidse"}]"#.utf8)
        let scaled = try preflight.judge(.success(HTTPResponse(status: 200, headers: announced, body: list)))
        #expect(scaled.timeScale == 10 && scaled.isPollbenchSandbox)
        announced.timeScale = "1"
        let realTime = try preflight.judge(.success(HTTPResponse(status: 200, headers: announced, body: list)))
        #expect(realTime.timeScale == nil && realTime.isPollbenchSandbox)
        #expect(try !preflight.judge(answer(200, #"[{"id":"bankidse"}]"#)).isPollbenchSandbox)  // a real service announces nothing
        for refused in ["fast", "5000", "0"] {  // a run could not follow a sandbox beyond the scales it runs at itself
            announced.timeScale = refused
            #expect(throws: TargetPreflight.Refusal.self) { try preflight.judge(.success(HTTPResponse(status: 200, headers: announced, body: list))) }
        }
    }

    @Test("unreachable, refused or a web page: one line naming what came back and what was expected", arguments: [
        (HTTPResult.failure(TransportError(kind: .connectionRefused, message: "Connection refused")), "cannot reach the target: GET http://127.0.0.1:9/api/v1/providers failed with transport:connection-refused"),
        (.success(HTTPResponse(status: 401, headers: ResponseHeaders(contentType: "application/json"), body: Array(#"{"code":100001,"title":"AUTH.INVALID_CREDENTIALS"}"#.utf8))),
         "the target refused the credentials: GET http://127.0.0.1:9/api/v1/providers answered 401 application/json, code 100001"),
        (.success(HTTPResponse(status: 403, headers: ResponseHeaders(contentType: "application/problem+json"), body: Array(#"{"title":"Forbidden"}"#.utf8))),
         "the target refused this client: GET http://127.0.0.1:9/api/v1/providers answered 403 application/problem+json, \"Forbidden\""),
        (.success(HTTPResponse(status: 201, headers: ResponseHeaders(contentType: "text/html; charset=utf-8"), body: Array("<!DOCTYPE html><html></html>".utf8))),
         "GET http://127.0.0.1:9/api/v1/providers answered 201 text/html; charset=utf-8, not the API's JSON list of providers (expected 200 application/json)"),
    ])
    func refused(result: HTTPResult, message: String) {
        #expect {
            _ = try preflight.judge(result)
        } throws: { error in
            (error as? TargetPreflight.Refusal)?.description.hasPrefix(message) == true
        }
    }
}
