import PollBenchRules
import Synchronization

/// Deliveries handed from the receiver's threads to one engine's loop: appended under a lock and the
/// loop woken; the engine takes them all at the start of its next turn, so its own path takes no lock
/// per poll, and a delivery is acted on by the thread that owns its session.
public final class WebhookInbox: Sendable {
    private struct State {
        var deliveries: [WebhookDelivery] = []
        var wake: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    public init() {}

    /// Hands a delivery to the loop and wakes it.
    public func post(_ delivery: WebhookDelivery) {
        let wake = state.withLock { state in
            state.deliveries.append(delivery)
            return state.wake
        }
        wake?()
    }

    /// Takes every delivery waiting, oldest first.
    public func drain() -> [WebhookDelivery] {
        state.withLock { state in
            defer { state.deliveries.removeAll() }
            return state.deliveries
        }
    }

    /// How to wake the loop that drains this inbox.
    func attach(_ wake: @escaping @Sendable () -> Void) {
        state.withLock { $0.wake = wake }
    }
}

/// A driver that also takes webhook deliveries: the engine simulation's loop hands them over directly.
public protocol WebhookDriver: TransportLoopDriver {
    /// A delivery for one of the driver's sessions has arrived, now.
    func webhookArrived(_ delivery: WebhookDelivery, loop: any TransportLoop)
}
