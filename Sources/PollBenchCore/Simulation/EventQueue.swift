/// Session `session` has something to do at model µs `at`: take an answer, or a timer. Events at the
/// same time go in the order the engine's transport loop takes them: answers first, in the order their
/// requests were sent, then timers by session index. So shared state (a budget, a fault stream) sees
/// simultaneous requests in the same order in both simulations.
struct Event: Comparable {
    var at: Int64
    /// Answers: the request's sequence number, then the session; timers: a flag above every sequence
    /// number, then the session. Sixteen bytes an event keep the queue's buckets small.
    private var order: Int64
    private static let sessionBits: Int64 = 28
    private static let timerFlag: Int64 = 1 << 62
    private static let webhookFlag: Int64 = 1 << 61

    /// The session, below 2^28 (a round holds at most a few million; sequence numbers get the other 34 bits).
    var session: Int32 { Int32(truncatingIfNeeded: order & (1 << Self.sessionBits - 1)) }

    /// A timer (or an arrival).
    init(at: Int64, session: Int32) {
        self.at = at
        order = Self.timerFlag | Int64(session)
    }

    /// The answer to the `sequence`-th request sent.
    static func answer(at: Int64, sequence: Int64, session: Int32) -> Event {
        var event = Event(at: at, session: session)
        event.order = sequence << sessionBits | Int64(session)
        return event
    }

    /// Where a webhook delivery falls among the events, for comparing with them (the webhooks wait in the
    /// service's outbox): by `order` (``WebhookAttemptID/order(creation:)``, below 2^33) among simultaneous
    /// ones, after answers and before timers, as the engine simulation's loop takes them.
    static func webhook(at: Int64, order: Int64) -> Event {
        var event = Event(at: at, session: 0)
        event.order = webhookFlag | order << sessionBits
        return event
    }

    /// Whether this is a timer (or an arrival).
    var isTimer: Bool { order & Self.timerFlag != 0 }

    static func < (a: Event, b: Event) -> Bool { a.at < b.at || (a.at == b.at && a.order < b.order) }
}

/// The fast simulation's scheduler: a calendar queue. Events in the next few model seconds sit in
/// one-millisecond buckets of a ring, each kept sorted (they hold a handful); later ones wait in a
/// heap. A pop takes the earlier of the current bucket's first event and the heap's, so the order is
/// exactly ``Event``'s, as a single heap would give, at a near-constant cost per event.
struct EventQueue {
    private static let bucketMicros: Int64 = 1_000
    private static let bucketCount = 4_096
    /// Each bucket sorted latest first, so its next event is its last.
    private var buckets = [[Event]](repeating: [], count: bucketCount)
    /// The bucket holding the earliest ring time, and that time (a multiple of the bucket width).
    private var cursor = 0
    private var cursorStart: Int64 = 0
    private var inRing = 0
    private var later = EventHeap()

    mutating func push(_ event: Event) {
        if inRing == 0 { cursorStart = event.at - event.at % Self.bucketMicros }  // an empty ring starts wherever it is needed
        let offset = (event.at - cursorStart) / Self.bucketMicros
        guard offset >= 0, offset < Int64(Self.bucketCount) else { return later.push(event) }
        let index = (cursor + Int(offset)) & (Self.bucketCount - 1)
        buckets[index].append(event)
        buckets[index].withUnsafeMutableBufferPointer { bucket in  // insertion sort: a bucket holds a handful
            var position = bucket.count - 1
            while position > 0, bucket[position - 1] < event {
                bucket[position] = bucket[position - 1]
                position -= 1
            }
            bucket[position] = event
        }
        inRing += 1
    }

    /// The earliest event, removed.
    mutating func popMin() -> Event? {
        guard let next = peek() else { return nil }
        if let first = buckets[cursor].last, first == next {
            inRing -= 1
            buckets[cursor].removeLast()
            return next
        }
        return later.popMin()
    }

    /// The earliest event, left in place.
    mutating func peek() -> Event? {
        guard inRing > 0 else { return later.min }
        while buckets[cursor].isEmpty {
            cursor = (cursor + 1) & (Self.bucketCount - 1)
            cursorStart += Self.bucketMicros
        }
        guard let first = buckets[cursor].last, let other = later.min else { return buckets[cursor].last }
        return first < other ? first : other
    }
}

/// A 4-ary min-heap of events: the fast simulation's whole scheduler. Four children per node halve the
/// levels a pop walks down, and the walk runs on the raw buffer, without bounds or uniqueness checks.
struct EventHeap {
    private var items: [Event] = []

    var min: Event? { items.first }

    mutating func push(_ event: Event) {
        items.append(event)
        items.withUnsafeMutableBufferPointer { heap in
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 4
                guard event < heap[parent] else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = event
        }
    }

    mutating func popMin() -> Event? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items.withUnsafeMutableBufferPointer { heap in
            let count = heap.count
            var parent = 0
            while true {
                let firstChild = 4 * parent + 1
                guard firstChild < count else { break }
                var least = firstChild
                for child in (firstChild + 1)..<Swift.min(firstChild + 4, count) where heap[child] < heap[least] { least = child }
                guard heap[least] < last else { break }
                heap[parent] = heap[least]
                parent = least
            }
            heap[parent] = last
        }
        return first
    }
}
