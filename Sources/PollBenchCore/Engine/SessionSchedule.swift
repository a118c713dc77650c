import HeapModule

/// When an engine's sessions next need it: the open workload's arrivals in time order, the timers of
/// sessions under way (due polls, wake-ups) in a min-heap, and a closed workload's sessions waiting for a
/// free slot. Arrivals sit apart from the heap, so that a million sessions cost no heap work before the
/// loop's first turn (their inserts held it back over 100 ms, which it counted as its own lag).
struct SessionSchedule {
    /// Something due at wall nanoseconds: a session's arrival or its timer.
    struct Due: Comparable {
        var at: Int64
        var session: Int

        static func < (a: Due, b: Due) -> Bool { (a.at, a.session) < (b.at, b.session) }
    }

    /// Arrivals, due counted from ``startNanos``; those before ``nextArrival`` have arrived.
    private var arrivals: [Due]
    private var nextArrival = 0
    private var timers = Heap<Due>()
    /// A closed workload's sessions not yet started, the next last.
    private var closed: [Int]
    /// Wall nanoseconds the arrivals count from.
    private var startNanos: Int64 = 0

    /// - Parameters:
    ///   - arrivals: each open session's arrival, wall nanoseconds after the start.
    ///   - closed: a closed workload's sessions in the order they start.
    init(arrivals: [Due], closed: [Int]) {
        self.arrivals = arrivals
        if zip(arrivals, arrivals.dropFirst()).contains(where: { $1 < $0 }) { self.arrivals.sort() }  // one strategy's come in order already
        self.closed = closed.reversed()
    }

    /// Arrivals count from `nanos` on.
    mutating func start(at nanos: Int64) {
        startNanos = nanos
    }

    /// A session under way wants its turn at `at`.
    mutating func wake(_ session: Int, at: Int64) {
        timers.insert(Due(at: at, session: session))
    }

    /// The next closed session to start, if one waits.
    mutating func nextClosed() -> Int? { closed.popLast() }

    /// Whether no closed session waits to start.
    var closedIsEmpty: Bool { closed.isEmpty }

    /// When the earliest arrival or timer is due; nil when none waits.
    var earliest: Int64? {
        switch (upcomingArrival, timers.min) {
        case let (arrival?, timer?): min(arrival.at, timer.at)
        case let (arrival, timer): (arrival ?? timer)?.at
        }
    }

    /// Takes the earliest arrival or timer due by `nowNanos`, in (due, session) order across both.
    mutating func takeDue(by nowNanos: Int64) -> Due? {
        let arrival = upcomingArrival
        if let timer = timers.min, timer.at <= nowNanos, arrival.map({ timer < $0 }) ?? true { return timers.removeMin() }
        guard let arrival, arrival.at <= nowNanos else { return nil }
        nextArrival += 1
        return arrival
    }

    /// Drops the timers at the top whose session has ended (a webhook or an error ended it early), so
    /// that the loop neither counts itself late for one, nor sleeps towards one, nor outlives its last
    /// session waiting for it.
    mutating func dropEnded(_ isDone: (Int) -> Bool) {
        while let next = timers.min, isDone(next.session) { timers.removeMin() }
    }

    /// Forgets everything still to come (an interrupted run).
    mutating func clear() {
        closed.removeAll()
        timers = Heap()
        nextArrival = arrivals.count
    }

    private var upcomingArrival: Due? {
        nextArrival < arrivals.count ? Due(at: startNanos + arrivals[nextArrival].at, session: arrivals[nextArrival].session) : nil
    }
}
