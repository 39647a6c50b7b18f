import Dispatch
import Foundation
import Synchronization

/// Runs a body once after a delay, unless cancelled first; cancelling removes the timer. A
/// cancelled `Task.sleep` or a `DispatchQueue.asyncAfter` still wakes a thread when its time
/// comes, so a wait that ends early would leave a timer behind for every command. Keep a
/// reference while it should fire: a timer released early is cancelled.
public final class OneShotTimer: Sendable {
    /// libdispatch sources may be used from any thread, but Linux's Dispatch does not mark
    /// them Sendable.
    private struct Handle: @unchecked Sendable {
        let timer: any DispatchSourceTimer
    }
    private let handle: Handle

    /// - Parameter seconds: the delay; not finite or beyond a year means never.
    public init(after seconds: Double, queue: DispatchQueue = .global(), _ body: @escaping @Sendable () -> Void) {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        handle = Handle(timer: timer)
        if seconds.isFinite && seconds < 365 * 86_400 {
            timer.schedule(deadline: .now() + .nanoseconds(Int(max(0, seconds) * 1e9)))
        } else {
            timer.schedule(deadline: .distantFuture)
        }
        timer.setEventHandler { [weak self] in
            self?.cancel()
            body()
        }
        timer.resume()
    }

    /// Removes the timer; the body does not run if it has not yet. Safe to call twice.
    public func cancel() {
        handle.timer.cancel()
    }

    deinit {
        cancel()
    }
}

/// Wakes one waiter, early or when its time is up, and leaves no timer behind: the loop of a
/// background service sleeps until its next due time or until something new arrives.
public final class WakeSignal: Sendable {
    struct State {
        var waiter: CheckedContinuation<Void, Never>?
        var timer: (any ClockTimer)?
        /// A ring that came while nobody waited: the next wait returns at once.
        var pending = false
    }
    private let state = Mutex(State())
    let clock: any TriageClock

    /// - Parameter clock: whose time `wait` counts in (tests pass one they move by hand).
    public init(clock: any TriageClock = SystemClock()) {
        self.clock = clock
    }

    /// Wakes the waiter now (or makes the next wait return at once).
    public func ring() {
        let (waiter, timer): (CheckedContinuation<Void, Never>?, (any ClockTimer)?) = state.withLock { s in
            guard let w = s.waiter else {
                s.pending = true
                return (nil, nil)
            }
            s.waiter = nil
            defer { s.timer = nil }
            return (w, s.timer)
        }
        timer?.cancel()
        waiter?.resume()
    }

    /// Returns after `seconds`, or earlier on ``ring()``, task cancellation or graceful shutdown
    /// of the calling service (pass `withGracefulShutdownHandler` the ring). One waiter at a time.
    public func wait(atMost seconds: Double) async {
        await wait(until: clock.now.addingTimeInterval(seconds.isFinite ? seconds : 366 * 86_400))
    }

    /// Returns when the clock reaches `deadline`, or earlier on ``ring()`` or task cancellation.
    public func wait(until deadline: Date) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now: Bool = state.withLock { s in
                    if s.pending || Task.isCancelled {
                        s.pending = false
                        return true
                    }
                    s.waiter = c
                    s.timer = clock.timer(at: deadline) { [weak self] in self?.ring() }
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            ring()
        }
    }
}
