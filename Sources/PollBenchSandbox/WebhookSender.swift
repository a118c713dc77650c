import Foundation
import PollBenchCore
import PollBenchRules
import Synchronization

/// Sends the sandbox's webhooks on time: a thread that sleeps until the next attempt is due (or one is
/// planned sooner), takes what is due from ``SandboxService/takeDueWebhooks(now:)``, POSTs it through an
/// ``HTTPTransport`` and hands the receiver's answer back to the service, which schedules the retries.
final class WebhookSender: Sendable {
    private let service: SandboxService
    private let clock: ModelClock
    private let transport: any HTTPTransport
    private let wakeup = DispatchSemaphore(value: 0)
    private let stopped = Atomic(false)
    private let inFlight = Atomic(0)
    private let finished = DispatchSemaphore(value: 0)

    init(service: SandboxService, clock: ModelClock, transport: any HTTPTransport) {
        self.service = service
        self.clock = clock
        self.transport = transport
        service.onWebhookPlanned { [wakeup] in wakeup.signal() }
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "pollbench-webhooks"
        thread.start()
    }

    private func run() {
        while !stopped.load(ordering: .acquiring) {
            for webhook in service.takeDueWebhooks(now: clock.nowMillis()) { send(webhook) }
            // Sleep until the next attempt is due, at most a second; a newly planned one wakes us sooner.
            let waitNanos = service.nextWebhookDue().map { clock.nanos(atModelMicros: $0 * 1_000) - clock.nanos(since: .now) } ?? 1_000_000_000
            if waitNanos > 0 { _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(min(waitNanos, 1_000_000_000)))) }
        }
    }

    private func send(_ webhook: OutgoingWebhook) {
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let signature = webhook.signature { headers.append(HTTPHeader(WebhookSignature.header, signature)) }
        let request = HTTPRequest(
            method: .post, url: webhook.url, headers: headers, body: webhook.body,
            timeout: .milliseconds(service.configuration.webhooks.timeoutMillis)
        )
        inFlight.add(1, ordering: .relaxed)
        transport.execute(request) { [self] result in
            let status: Int? = if case .success(let response) = result { response.status } else { nil }
            service.webhookAnswered(webhook, status: status, now: clock.nowMillis())
            inFlight.subtract(1, ordering: .releasing)
        }
    }

    /// Stops sending and waits (up to the answer timeout) for the attempts in flight to be answered, so
    /// that the sandbox's counts are final. Idempotent.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wakeup.signal()
        finished.wait()
        let deadline = ContinuousClock.now + .milliseconds(service.configuration.webhooks.timeoutMillis + 1_000)
        while inFlight.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline { usleep(1_000) }
    }
}
