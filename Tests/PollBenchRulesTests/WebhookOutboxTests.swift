import PollBenchRules
import Testing

@Suite("The webhook outbox every runner shares")
struct WebhookOutboxTests {
    /// Rules whose deliveries take a fixed 100 ms and retry after 1 s, then 5 s.
    static func outbox() -> WebhookOutbox<String> {
        var configuration = WebhookConfiguration()
        configuration.delay = LogNormal(median: 100, p99: 100)
        configuration.retryDelaysSeconds = [1, 5]
        return WebhookOutbox(rules: WebhookRules(configuration: configuration, seed: 7, startMillis: 0))
    }

    static let completed = [WebhookEvent(status: .completed, at: 1_000)]

    /// The next attempt, whenever it is due.
    static func take(_ outbox: inout WebhookOutbox<String>) -> WebhookOutbox<String>.Queued? {
        outbox.popDue(by: .max)
    }

    @Test("attempts due at once are taken by the sessions' creation order, none before it is due, and only what changed is planned again")
    func order() throws {
        var outbox = Self.outbox()
        outbox.plan(key: "b", events: Self.completed, previous: [], session: "second", creation: 2)
        outbox.plan(key: "a", events: Self.completed, previous: [], session: "first", creation: 1)
        outbox.plan(key: "a", events: Self.completed, previous: Self.completed, session: "first", creation: 1)  // nothing new
        let due = try #require(outbox.next?.due)
        #expect(due > 1_000)
        let early = outbox.popDue(by: due - 1)
        let first = outbox.popDue(by: due), second = outbox.popDue(by: due)
        #expect(early == nil)
        #expect(first?.session == "first")
        #expect(second?.session == "second")
        #expect(outbox.next == nil)
        #expect(outbox.dispatcher.truth.events == 2)
    }

    @Test("a failed answer queues the retry, a 2xx ends it; a superseded attempt or a gone session is not sent")
    func fates() throws {
        var outbox = Self.outbox()
        outbox.plan(key: "a", events: Self.completed, previous: [], session: "s", creation: 1)
        let first = try #require(Self.take(&outbox))
        #expect(outbox.start(first, current: Self.completed, at: first.attempt.due) == false)  // sent, signed right
        outbox.answered(first, status: 500, at: first.attempt.due)
        let retry = try #require(Self.take(&outbox))
        #expect(retry.attempt.id.attempt == 2)
        #expect(retry.attempt.due == first.attempt.due + 1_000)
        #expect(outbox.start(retry, current: Self.completed, at: retry.attempt.due) == false)
        outbox.answered(retry, status: 204, at: retry.attempt.due)
        #expect(outbox.next == nil)
        #expect(outbox.dispatcher.truth.delivered == 1)

        outbox.plan(key: "b", events: Self.completed, previous: [], session: "t", creation: 2)
        let superseded = try #require(Self.take(&outbox))
        #expect(outbox.start(superseded, current: [WebhookEvent(status: .cancelled, at: 500)], at: superseded.attempt.due) == nil)
        #expect(outbox.dispatcher.truth.superseded == 1)
        outbox.plan(key: "c", events: Self.completed, previous: [], session: "u", creation: 3)
        let orphan = try #require(Self.take(&outbox))
        #expect(outbox.start(orphan, current: nil, at: orphan.attempt.due) == nil)
        #expect(outbox.next == nil)
    }
}
