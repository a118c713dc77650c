import Foundation
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

/// The webhook's signature, the receiver's checks, and what a webhook means to a session.
@Suite("Webhooks: signatures, the receiver and the session machine")
struct WebhookTests {
    static let secret = "whsec_test_0123456789"
    static let body = Array(#"{"eventId":"evt_1","type":"verification.completed","status":"completed"}"#.utf8)
    let now: Int64 = 1_795_000_000_000

    @Test("the signature is HMAC-SHA256 of \"t.body\" in hex, as Python's hmac computes it independently")
    func signatureMatchesPython() throws {
        let header = WebhookSignature.sign(body: Self.body, timestamp: 1_795_000_000, secret: Self.secret)
        let script = "import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), (sys.argv[2] + '.' + sys.argv[3]).encode(), hashlib.sha256).hexdigest())"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, Self.secret, "1795000000", String(decoding: Self.body, as: UTF8.self)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let python = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(process.terminationStatus == 0 && python.count == 64)
        #expect(header == "t=1795000000,v1=\(python)")
    }

    @Test("HMAC-SHA256 gives RFC 4231's codes (a key over one block hashed first) and FIPS 180-4's digests at every padding boundary")
    func hmacVectors() throws {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(HMACSHA256.code(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(hex(HMACSHA256.code(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(hex(HMACSHA256.code(key: [UInt8](repeating: 0xaa, count: 131), message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(hex(SHA256.digest([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(SHA256.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Python's hashlib.sha256 of bytes (31·i + 7) mod 256, around the 55/56- and 64-byte padding edges.
        let boundaries: [Int: String] = [
            55: "8aa994584139d128848eeebc4e815639ba5ab6e6e39574195a63ac4f14f7c43b",
            56: "ad574708f75c044c9b85de64cb568ee7711ff4f36448c6242f053ba8f6cc2b63",
            63: "280ed3e8ff1df845b2e7dfe6ac6cee817bef20e783cc65abc41b818b4d2fe076",
            64: "c6ab9724ade5b6a7a1edfffb12f3aa9181351355af8fd08c919952ad211339dd",
            65: "788367c73c7ddf4c53f65e68cc0d943e6227ab55b0e78ba63ace822b1c6301c0",
            119: "3d610547d68216dedf7435a4fb6260353911f6b3fd3f18805ddb8be285d726fe",
            120: "1f80156a804cb7862ad113e8200e9d74499723e7c7854d5f48776d3148e09656",
            128: "cc548ca2dec1f6fe4f58b2e27aa9c7521607df1130d140b55a4dad0665302356",
        ]
        for (length, digest) in boundaries {
            #expect(hex(SHA256.digest((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })) == digest, "length \(length)")
        }
        #expect(hex(SHA256.digest([UInt8](repeating: 0x61, count: 1_000))) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test("verify: a matching v1 within 300 s passes (one of several, for rotation); forged, missing, stale and skewed ones do not")
    func verify() {
        let secrets = [Array(Self.secret.utf8)]
        let good = WebhookSignature.sign(body: Self.body, timestamp: 1_000, secret: Self.secret)
        #expect(WebhookSignature.verify(header: good, body: Self.body, secrets: secrets, nowSeconds: 1_300) == .success(String(good.split(separator: "=").last!)))
        let rotated = "t=1000,v1=" + String(repeating: "0", count: 64) + "," + good.split(separator: ",")[1]
        #expect((try? WebhookSignature.verify(header: rotated, body: Self.body, secrets: secrets, nowSeconds: 1_000).get()) != nil)
        let forged = WebhookSignature.sign(body: Self.body, timestamp: 1_000, secret: "guessed")
        #expect(WebhookSignature.verify(header: forged, body: Self.body, secrets: secrets, nowSeconds: 1_000) == .failure(.mismatch))
        #expect(WebhookSignature.verify(header: good, body: Self.body + [0x20], secrets: secrets, nowSeconds: 1_000) == .failure(.mismatch))  // body changed
        #expect(WebhookSignature.verify(header: nil, body: Self.body, secrets: secrets, nowSeconds: 1_000) == .failure(.missing))
        #expect(WebhookSignature.verify(header: "v1=abc", body: Self.body, secrets: secrets, nowSeconds: 1_000) == .failure(.missing))
        #expect(WebhookSignature.verify(header: good, body: Self.body, secrets: secrets, nowSeconds: 1_301) == .failure(.stale))
        #expect(WebhookSignature.verify(header: good, body: Self.body, secrets: secrets, nowSeconds: 699) == .failure(.stale))  // from the future
        // A forged timestamp is not trusted: the signature is checked first.
        let moved = good.replacingOccurrences(of: "t=1000", with: "t=1300")
        #expect(WebhookSignature.verify(header: moved, body: Self.body, secrets: secrets, nowSeconds: 1_300) == .failure(.mismatch))
    }

    /// A signed delivery of `status` for route 0/0/`session`, as the sandbox sends it.
    func delivery(_ status: VerificationStatus = .completed, session: Int = 0, at millis: Int64, secret: String = secret, attempt: Int = 1) -> (path: String, signature: String, body: [UInt8]) {
        let message = WebhookMessage(eventID: "evt_\(session)", deliveryID: "evt_\(session).0.\(attempt)", attempt: attempt, verificationID: "v\(session)", status: status, occurredMillis: millis - 500)
        let body = message.encode(statusDocument: Array(#"{"verificationId":"v\#(session)","status":"\#(status.rawValue)"}"#.utf8))
        return ("/webhooks/0/0/\(session)", WebhookSignature.sign(body: body, timestamp: millis / 1_000, secret: secret), body)
    }

    @Test("a body that is the status document alone is a delivery; what is there but malformed is not")
    func foreignBodies() throws {
        let document = #"{"verificationId":"v7","status":"completed","providerId":"bankidse","createdAt":"2026-12-01T10:00:00.000Z","verifiedAt":"2026-12-01T10:00:05.250Z"}"#
        let bare = try #require(WebhookMessage(body: Array(document.utf8)))
        #expect(bare.verificationID == "v7" && bare.status == .completed && bare.attempt == 1 && bare.deliveryID == nil)
        #expect(bare.occurredMillis == ISO8601Millis.parse("2026-12-01T10:00:05.250Z"))
        #expect(bare.eventID == WebhookMessage.eventID(verificationID: "v7", status: .completed))  // stable: a duplicate is one
        let withEvent = try #require(WebhookMessage(body: Array(#"{"eventId":"e1","type":"verification.completed","verificationId":"v7","status":"completed"}"#.utf8)))
        #expect(withEvent.eventID == "e1" && withEvent.occurredMillis == nil && withEvent.event.at == WebhookEvent.unknownTime)
        let pending = try #require(WebhookMessage(body: Array(#"{"verificationId":"v7","status":"awaiting_user_action","expiresAt":"2026-12-01T10:05:00.000Z"}"#.utf8)))
        #expect(pending.status == .pending && pending.occurredMillis == nil)
        for malformed in [#"{"status":"completed"}"#, #"{"verificationId":"v7"}"#, #"{"verificationId":"v7","status":"done"}"#,
                          #"{"verificationId":"v7","status":"completed","occurredAt":"yesterday"}"#, #"{"verificationId":"v7","status":"completed","deliveryAttempt":0}"#] {
            #expect(WebhookMessage(body: Array(malformed.utf8)) == nil, "\(malformed)")
        }
        // Signed, the bare document is accepted; its copy with a fresh signature is a duplicate of one change.
        let receiver = WebhookReceiver(secrets: [Self.secret], maxBodyBytes: 4_096)
        receiver.open(round: 0, sessionsPerWorker: [1])
        let answer = receiver.receive(path: "/webhooks/0/0/0", signature: WebhookSignature.sign(body: Array(document.utf8), timestamp: now / 1_000, secret: Self.secret), body: Array(document.utf8), nowMillis: now)
        #expect(answer.status == 200 && answer.delivery?.message == bare)
    }

    @Test("the receiver takes a good delivery and refuses forged, stale, replayed, oversized and malformed ones, counting each, and keeps going")
    func receiver() {
        let receiver = WebhookReceiver(secrets: [Self.secret], maxBodyBytes: 4_096)
        receiver.open(round: 0, sessionsPerWorker: [3])
        let good = delivery(at: now)
        let accepted = receiver.receive(path: good.path, signature: good.signature, body: good.body, nowMillis: now)
        #expect(accepted.status == 200 && accepted.delivery?.receipt == .accepted)
        #expect(accepted.delivery?.message == WebhookMessage(eventID: "evt_0", deliveryID: "evt_0.0.1", attempt: 1, verificationID: "v0", status: .completed, occurredMillis: now - 500))

        let hostile: [(signature: String?, body: [UInt8]?, at: Int64, expected: WebhookReceipt)] = [
            (good.signature, good.body, now + 1_000, .replayed),  // the same bytes again
            (delivery(at: now, secret: "attacker").signature, good.body, now, .badSignature),
            (nil, good.body, now, .badSignature),
            (delivery(session: 1, at: now - 301_000).signature, delivery(session: 1, at: now - 301_000).body, now, .stale),
            (WebhookSignature.sign(body: Array("{}".utf8), timestamp: now / 1_000, secret: Self.secret), Array("{}".utf8), now, .malformed),
            (good.signature, nil, now, .tooLarge),
        ]
        for attack in hostile {
            let answer = receiver.receive(path: good.path, signature: attack.signature, body: attack.body, nowMillis: attack.at)
            #expect(answer.delivery?.receipt == attack.expected)
            #expect(answer.status == attack.expected.httpStatus && answer.status >= 400)
        }
        let later = delivery(session: 2, at: now + 5_000)
        #expect(receiver.receive(path: later.path, signature: later.signature, body: later.body, nowMillis: now + 5_000).status == 200)  // still taking deliveries
        let older = delivery(session: 2, at: now + 6_000), unknown = delivery(session: 1, at: now + 7_000)
        #expect(receiver.receive(path: "/webhooks/1/0/2", signature: older.signature, body: older.body, nowMillis: now + 6_000).delivery == nil)  // another round
        #expect(receiver.receive(path: "/webhooks/0/0/9", signature: unknown.signature, body: unknown.body, nowMillis: now + 7_000).delivery == nil)  // no such session
        let counts = receiver.counts
        #expect(counts.received == 10 && counts.unroutable == 2)
        #expect(counts.receipts == ["accepted": 4, "replayed": 1, "bad-signature": 2, "stale": 1, "malformed": 1, "too-large": 1])
    }

    // MARK: The session machine

    let policy = SessionMachine.Policy(clientTimeoutMillis: 300_000, createRetries: 0)
    let t0: Int64 = 1_000_000_000

    func created(_ strategy: PollStrategy) -> SessionMachine {
        var session = SessionMachine(strategy: strategy, seed: 1, key: "w", position: 0)
        _ = session.handle(.arrived, at: t0, policy)
        _ = session.handle(.createAnswered(.created(serviceCreatedMillis: t0 / 1_000, redirect: false), sentMicros: t0), at: t0, policy)
        return session
    }

    @Test("a hybrid's webhook ends the wait for its safety poll: detected by webhook, the rest of the schedule saved, the stale timer ignored")
    func hybridNotified() {
        var session = created(.webhook(safety: .fixed(intervalMillis: 30_000)))
        let notice = WebhookEvent(status: .completed, at: t0 / 1_000 + 12_000)
        let (kind, action) = session.notify(notice, at: t0 + 12_200_000, policy)
        #expect(kind == .first && action == .send(.userinfo))
        #expect(session.detectedBy == .webhook && session.terminalSeenMicros == t0 + 12_200_000 && session.serviceTerminalMillis == t0 / 1_000 + 12_000)
        #expect(session.pollsSaved == 1)  // the poll at 30 s would have seen it
        #expect(session.handle(.timerFired, at: t0 + 30_000_000, policy) == .none)
        #expect(session.notify(notice, at: t0 + 13_000_000, policy).kind == .duplicate)  // counted once
        #expect(session.notify(.init(status: .pending, at: t0 / 1_000 + 1_000), at: t0 + 13_000_000, policy).kind == .outOfOrder)
    }

    @Test("a lost webhook is rescued by the safety poll; a webhook after that is late")
    func lostWebhookRescued() {
        var session = created(.webhook(safety: .fixed(intervalMillis: 30_000)))
        #expect(session.handle(.timerFired, at: t0 + 30_000_000, policy) == .send(.status))
        #expect(session.handle(.statusAnswered(.terminal(.failed, serviceMillis: nil)), at: t0 + 30_010_000, policy) == .end(.failed))
        #expect(session.detectedBy == .poll && session.polls == 1)
        #expect(session.notify(.init(status: .failed, at: t0 / 1_000 + 5_000), at: t0 + 31_000_000, policy) == (.late, .none))
    }

    @Test("a webhook during a poll in flight is held for the poll's answer, and still counts as the first to see the end")
    func heldDuringPoll() {
        var session = created(.webhook(safety: .fixed(intervalMillis: 30_000)))
        _ = session.handle(.timerFired, at: t0 + 30_000_000, policy)
        #expect(session.notify(.init(status: .completed, at: t0 / 1_000 + 29_000), at: t0 + 30_001_000, policy) == (.first, .none))
        #expect(session.handle(.statusAnswered(.open), at: t0 + 30_002_000, policy) == .send(.userinfo))
        #expect(session.detectedBy == .webhook && session.terminalSeenMicros == t0 + 30_001_000 && session.polls == 1)
    }

    @Test("a pure webhook session sends no poll; it reads once at the webhook timeout, then waits to the client timeout")
    func pureWebhook() {
        let short = SessionMachine.Policy(clientTimeoutMillis: 300_000, createRetries: 0, webhookTimeoutMillis: 120_000)
        var session = SessionMachine(strategy: .webhook(safety: nil), seed: 1, key: "w", position: 0)
        _ = session.handle(.arrived, at: t0, short)
        #expect(session.handle(.createAnswered(.created(serviceCreatedMillis: nil, redirect: false), sentMicros: t0), at: t0 + 1_000, short) == .wake(atMicros: t0 + 120_000_000))
        #expect(session.handle(.timerFired, at: t0 + 120_000_000, short) == .send(.status))
        #expect(session.handle(.statusAnswered(.open), at: t0 + 120_001_000, short) == .wake(atMicros: t0 + 300_000_000))
        #expect(session.handle(.timerFired, at: t0 + 300_000_000, short) == .end(.clientTimeout))
        #expect(session.polls == 1)
        var defaulted = created(.webhook(safety: nil))
        #expect(defaulted.handle(.timerFired, at: t0 + 300_000_000, policy) == .send(.status))  // the default: at the client timeout
    }

    @Test("strategy syntax: webhook and webhook+SAFETY round-trip; nesting and unknown forms are refused")
    func syntax() throws {
        for text in ["webhook", "webhook+fixed:30s", "webhook+exp:5s,x2,max1m", "webhook+jitter:full,1s,30s"] {
            #expect(try PollStrategy(parsing: text).name == text)
        }
        #expect(try PollStrategy(parsing: "webhook+exp:5s,x2,max60s") == .webhook(safety: .exponential(initialMillis: 5_000, multiplier: 2, maxMillis: 60_000)))
        for bad in ["webhook+webhook", "webhook+", "webhooks", "webhook:30s"] {
            #expect(throws: StrategySyntaxError.self) { try PollStrategy(parsing: bad) }
        }
        let sweep = try StrategySweep(parsing: "webhook+fixed:interval=10s..120s/12")
        #expect(sweep.strategies.count == 12 && sweep.strategies.first == .webhook(safety: .fixed(intervalMillis: 10_000)) && sweep.varying == ["interval"])
    }
}
