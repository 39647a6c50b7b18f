import Foundation
import Synchronization
import TriageCore

/// A ``TriageClock`` the tests move by hand: `now` changes only on ``advance(_:)`` or
/// ``set(_:)``, which run the timers that became due (in deadline order). A test waits for a
/// service to be asleep (``waitForTimers(_:)``), moves the clock, and sees what the service
/// did, without waiting on wall time.
package final class TestClock: TriageClock {
    struct Pending {
        var deadline: Date
        var body: @Sendable () -> Void
    }
    struct State {
        var now: Date
        var timers: [Int: Pending] = [:]
        var nextID = 0
    }
    private let state: Mutex<State>

    package init(_ start: Date = Date()) {
        state = Mutex(State(now: start))
    }

    package var now: Date { state.withLock { $0.now } }

    /// Timers waiting for the clock.
    package var pendingTimers: Int { state.withLock { $0.timers.count } }

    /// The earliest deadline of the pending timers.
    package var nextDeadline: Date? { state.withLock { $0.timers.values.map(\.deadline).min() } }

    /// Moves the clock forward and runs the timers now due.
    package func advance(_ seconds: Double) {
        let due: [Pending] = state.withLock { s in
            s.now = s.now.addingTimeInterval(seconds)
            return Self.takeDue(&s)
        }
        for p in due { p.body() }
    }

    /// Sets the clock (forward or back) and runs the timers now due.
    package func set(_ date: Date) {
        let due: [Pending] = state.withLock { s in
            s.now = date
            return Self.takeDue(&s)
        }
        for p in due { p.body() }
    }

    package func timer(at deadline: Date, _ body: @escaping @Sendable () -> Void) -> any ClockTimer {
        let (id, late): (Int, Bool) = state.withLock { s in
            s.nextID += 1
            guard deadline > s.now else { return (s.nextID, true) }
            s.timers[s.nextID] = Pending(deadline: deadline, body: body)
            return (s.nextID, false)
        }
        // Already due: fires at once, but never inside the caller (it may hold its own lock).
        if late { Task { body() } }
        return Timer(clock: self, id: id)
    }

    /// Waits (polling, bounded by `timeout` seconds of wall time as a safety net) until at least
    /// `count` timers are pending, i.e. the code under test went to sleep on this clock.
    @discardableResult
    package func waitForTimers(_ count: Int = 1, timeout: Double = 60) async -> Bool {
        let limit = Date().addingTimeInterval(timeout)
        while pendingTimers < count {
            guard Date() < limit else { return false }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return true
    }

    func cancel(_ id: Int) {
        _ = state.withLock { $0.timers.removeValue(forKey: id) }
    }

    private static func takeDue(_ s: inout State) -> [Pending] {
        let due = s.timers.filter { $0.value.deadline <= s.now }.sorted { $0.value.deadline < $1.value.deadline }
        for (id, _) in due { s.timers[id] = nil }
        return due.map(\.value)
    }

    struct Timer: ClockTimer {
        let clock: TestClock
        let id: Int
        func cancel() { clock.cancel(id) }
    }
}
