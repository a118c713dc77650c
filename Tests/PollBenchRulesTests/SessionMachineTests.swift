@testable import PollBenchRules
import Testing

/// The client's rules on their own: events and times in, actions out, no loop and no clock.
@Suite("The session state machine")
struct SessionMachineTests {
    let policy = SessionMachine.Policy(clientTimeoutMillis: 60_000, createRetries: 2)
    let t0: Int64 = 1_000_000_000

    func machine(_ strategy: PollStrategy = .fixed(intervalMillis: 3_000)) -> SessionMachine {
        SessionMachine(strategy: strategy, seed: 1, key: "s1-0", position: 0)
    }

    @Test("arrival sends the create; a 201 schedules the first poll a strategy step later; a terminal status reads userinfo, then evidence")
    func happyPath() {
        var session = machine()
        #expect(session.timerEvent == .arrived)
        #expect(session.handle(.arrived, at: t0, policy) == .send(.create))
        #expect(session.timerEvent == .timerFired)
        let created = t0 + 40_000
        #expect(session.handle(.createAnswered(.created(serviceCreatedMillis: t0 / 1_000 + 50, redirect: false), sentMicros: t0), at: created, policy) == .wake(atMicros: created + 3_000_000))
        #expect(session.handle(.timerFired, at: created + 3_000_000, policy) == .send(.status))
        #expect(session.handle(.statusAnswered(.open), at: created + 3_040_000, policy) == .wake(atMicros: created + 6_040_000))
        #expect(session.handle(.timerFired, at: created + 6_040_000, policy) == .send(.status))
        #expect(session.handle(.statusAnswered(.terminal(.completed, serviceMillis: 7)), at: created + 6_080_000, policy) == .send(.userinfo))
        #expect(session.handle(.readAnswered, at: created + 6_100_000, policy) == .send(.evidence))
        #expect(session.handle(.readAnswered, at: created + 6_120_000, policy) == .end(.completed))
        #expect(session.polls == 2 && session.isCreated && session.terminalSeenMicros == created + 6_080_000 && session.serviceTerminalMillis == 7)
        #expect(session.clockOffsetMicros == 30_000)  // createdAt (t0 + 50 ms) against the middle of the create's round trip (t0 + 20 ms)
        #expect(session.handle(.readAnswered, at: created + 7_000_000, policy) == .none)  // done: a stray answer changes nothing
    }

    @Test("a rejected create waits the longer of its backoff and Retry-After, then gives up after its retries; a 201 it cannot read is not retried")
    func createRetries() {
        var session = machine()
        _ = session.handle(.arrived, at: t0, policy)
        #expect(session.handle(.createAnswered(.rejected(retryable: true, retryAfterMillis: 5_000), sentMicros: t0), at: t0 + 10, policy) == .wake(atMicros: t0 + 10 + 5_000_000))
        #expect(session.handle(.timerFired, at: t0 + 5_000_010, policy) == .send(.create))
        #expect(session.handle(.createAnswered(.rejected(retryable: true, retryAfterMillis: nil), sentMicros: t0), at: t0 + 5_000_020, policy) == .wake(atMicros: t0 + 5_000_020 + 2_000_000))
        _ = session.handle(.timerFired, at: t0 + 7_000_020, policy)
        #expect(session.handle(.createAnswered(.rejected(retryable: true, retryAfterMillis: nil), sentMicros: t0), at: t0 + 7_000_030, policy) == .end(.error))
        #expect(session.createAttempts == 3 && !session.isCreated)

        var unreadable = machine()
        _ = unreadable.handle(.arrived, at: t0, policy)
        #expect(unreadable.handle(.createAnswered(.rejected(retryable: false, retryAfterMillis: nil), sentMicros: t0), at: t0 + 10, policy) == .end(.error))
    }

    @Test("Retry-After is never undercut, failures back off, a 404 ends the session, and a poll past the client timeout is not sent")
    func polling() {
        var session = machine()
        _ = session.handle(.arrived, at: t0, policy)
        _ = session.handle(.createAnswered(.created(serviceCreatedMillis: nil, redirect: false), sentMicros: t0), at: t0, policy)
        _ = session.handle(.timerFired, at: t0 + 3_000_000, policy)
        #expect(session.handle(.statusAnswered(.retryAfter(millis: 10_000)), at: t0 + 3_000_000, policy) == .wake(atMicros: t0 + 13_000_000))
        #expect(session.retryAfterWaitMillis == 10_000)
        _ = session.handle(.timerFired, at: t0 + 13_000_000, policy)
        #expect(session.handle(.statusAnswered(.failed), at: t0 + 13_000_000, policy) == .wake(atMicros: t0 + 19_000_000))  // fixed doubles on failure
        _ = session.handle(.timerFired, at: t0 + 19_000_000, policy)
        #expect(session.handle(.statusAnswered(.open), at: t0 + 58_000_000, policy) == .end(.clientTimeout))  // the next poll would be past 60 s

        var gone = machine()
        _ = gone.handle(.arrived, at: t0, policy)
        _ = gone.handle(.createAnswered(.created(serviceCreatedMillis: nil, redirect: false), sentMicros: t0), at: t0, policy)
        _ = gone.handle(.timerFired, at: t0 + 3_000_000, policy)
        #expect(gone.handle(.statusAnswered(.notFound), at: t0 + 3_000_000, policy) == .end(.error))
    }

    @Test("a redirect waits for the user's return, moved onto the client's clock, or times out when the user never comes back")
    func redirect() {
        var session = machine()
        _ = session.handle(.arrived, at: t0, policy)
        // The service's clock runs 2 s ahead: createdAt is 2 s past the middle of the create's round trip.
        #expect(session.handle(.createAnswered(.created(serviceCreatedMillis: t0 / 1_000 + 2_000, redirect: true), sentMicros: t0), at: t0, policy) == .send(.authorize))
        #expect(session.handle(.authorizeAnswered(returnAtServiceMillis: t0 / 1_000 + 12_000), at: t0 + 100, policy) == .wake(atMicros: t0 + 10_000_000))
        #expect(session.handle(.timerFired, at: t0 + 10_000_000, policy) == .send(.status))

        var abandoned = machine()
        _ = abandoned.handle(.arrived, at: t0, policy)
        _ = abandoned.handle(.createAnswered(.created(serviceCreatedMillis: t0 / 1_000, redirect: true), sentMicros: t0), at: t0, policy)
        #expect(abandoned.handle(.authorizeAnswered(returnAtServiceMillis: nil), at: t0 + 100, policy) == .wake(atMicros: t0 + 60_000_000))
        #expect(abandoned.handle(.timerFired, at: t0 + 60_000_000, policy) == .end(.clientTimeout))
    }

    @Test("an interrupt ends a started session as interrupted and leaves one that has not arrived without a result")
    func interrupt() {
        var waiting = machine()
        #expect(waiting.handle(.interrupted, at: t0, policy) == .none)
        #expect(waiting.isDone && waiting.handle(.arrived, at: t0, policy) == .none)

        var started = machine()
        _ = started.handle(.arrived, at: t0, policy)
        #expect(started.handle(.interrupted, at: t0 + 1, policy) == .end(.interrupted))
        #expect(started.handle(.interrupted, at: t0 + 2, policy) == .none)
    }

    @Test("the jitter stream is the stream of KEY/POSITION, whether the key or its hash is given")
    func jitterStream() {
        let strategy = PollStrategy.jitter(.full, baseMillis: 1_000, capMillis: 30_000)
        var byKey = SessionMachine(strategy: strategy, seed: 7, key: "s7-42", position: 1)
        var byHash = SessionMachine(strategy: strategy, seed: 7, keyHash: StableHash.fnv1a("s7-42"), position: 1)
        var schedule = PollSchedule(strategy: strategy)
        var reference = SplitMix64(seed: 7, key: "s7-42/1")
        let expected = t0 + schedule.firstDelay(&reference) * 1_000
        _ = byKey.handle(.arrived, at: t0, policy)
        _ = byHash.handle(.arrived, at: t0, policy)
        let created = SessionMachine.Event.createAnswered(.created(serviceCreatedMillis: nil, redirect: false), sentMicros: t0)
        #expect(byKey.handle(created, at: t0, policy) == .wake(atMicros: expected))
        #expect(byHash.handle(created, at: t0, policy) == .wake(atMicros: expected))
    }
}
