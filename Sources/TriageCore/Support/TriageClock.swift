import Foundation

/// The one source of time for what stamps and waits: the outbox's holds and pacing, escalation
/// timers, confirmation expiry. The composition root injects ``SystemClock``; tests inject a
/// clock they move by hand, so a five-minute escalation runs in no wall time at all.
public protocol TriageClock: Sendable {
    /// The current time by this clock.
    var now: Date { get }
    /// Runs `body` once when this clock reaches `deadline`, unless the returned timer is
    /// cancelled first. Keep the timer while it should fire.
    func timer(at deadline: Date, _ body: @escaping @Sendable () -> Void) -> any ClockTimer
}

/// A pending ``TriageClock/timer(at:_:)``; cancelling removes it (safe to call twice).
public protocol ClockTimer: Sendable {
    func cancel()
}

extension OneShotTimer: ClockTimer {}

extension TriageClock {
    /// Returns when this clock reaches `deadline`; throws `CancellationError` when the task is
    /// cancelled first. Leaves no timer behind either way.
    public func sleep(until deadline: Date) async throws {
        await WakeSignal(clock: self).wait(until: deadline)
        try Task.checkCancellation()
    }
}

/// Wall-clock time; timers are libdispatch timers (``OneShotTimer``).
public struct SystemClock: TriageClock {
    public init() {}

    public var now: Date { Date() }

    public func timer(at deadline: Date, _ body: @escaping @Sendable () -> Void) -> any ClockTimer {
        OneShotTimer(after: deadline.timeIntervalSinceNow, body)
    }
}
