import Foundation
import Synchronization
import Testing
@testable import TriageCore

/// Timers that can be removed: a cancelled timer never runs, a wait ended early leaves
/// nothing to fire later.
@Suite struct OneShotTimerTests {
    final class Counter: Sendable {
        let value = Mutex(0)
        func bump() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    @Test func firesOnceAfterItsDelay() async throws {
        let fired = Counter()
        let timer = OneShotTimer(after: 0.05) { fired.bump() }
        // A loaded machine may run it late: wait for it (bounded), then check it ran once.
        for _ in 0..<200 where fired.count == 0 { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(fired.count == 1)
        timer.cancel()                                   // after firing: harmless
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(fired.count == 1)
    }

    @Test func aCancelledTimerNeverRuns() async throws {
        let fired = Counter()
        let timers = (0..<200).map { _ in OneShotTimer(after: 0.05) { fired.bump() } }
        for t in timers { t.cancel() }
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(fired.count == 0)
        // Released without cancel: removed too (a timer nobody holds has nobody to tell).
        _ = OneShotTimer(after: 0.05) { fired.bump() }
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(fired.count == 0)
        // Never (not finite) is accepted and does not trap.
        let never = OneShotTimer(after: .infinity) { fired.bump() }
        never.cancel()
        _ = OneShotTimer(after: -.nan) { fired.bump() }
    }

    @Test func aWakeSignalEndsTheWaitEarlyAndItsTimerIsRemoved() async throws {
        let signal = WakeSignal()
        let start = Date()
        async let waited: Void = signal.wait(atMost: 60)
        try await Task.sleep(nanoseconds: 100_000_000)
        signal.ring()
        await waited
        #expect(Date().timeIntervalSince(start) < 30)          // far sooner than its 60 s
        // A ring with nobody waiting makes the next wait return at once.
        signal.ring()
        let again = Date()
        await signal.wait(atMost: 60)
        #expect(Date().timeIntervalSince(again) < 30)
        // Without a ring, the wait ends when its time is up.
        let timed = Date()
        await signal.wait(atMost: 0.2)
        let took = Date().timeIntervalSince(timed)
        #expect(took >= 0.15 && took < 30)
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async throws {
        let signal = WakeSignal()
        let start = Date()
        let task = Task { await signal.wait(atMost: 60) }
        try await Task.sleep(nanoseconds: 100_000_000)
        task.cancel()
        await task.value
        #expect(Date().timeIntervalSince(start) < 30)
    }
}
