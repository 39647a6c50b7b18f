import Foundation
import Testing
@testable import TriagePaging

@Suite struct EscalationStateMachineTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func walksEveryLevelThenRepeatsThenExhausts() {
        var m = EscalationStateMachine(waits: [300, 600, 900], repeats: 1)
        #expect(m.start(at: t0) == [.notify(level: 0, round: 0), .wait(until: t0 + 300)])
        #expect(m.timerFired(at: t0 + 299) == [])
        #expect(m.timerFired(at: t0 + 300) == [.notify(level: 1, round: 0), .wait(until: t0 + 900)])
        #expect(m.timerFired(at: t0 + 900) == [.notify(level: 2, round: 0), .wait(until: t0 + 1800)])
        #expect(m.timerFired(at: t0 + 1800) == [.notify(level: 0, round: 1), .wait(until: t0 + 2100)])
        #expect(m.timerFired(at: t0 + 2100) == [.notify(level: 1, round: 1), .wait(until: t0 + 2700)])
        #expect(m.timerFired(at: t0 + 2700) == [.notify(level: 2, round: 1), .wait(until: t0 + 3600)])
        #expect(m.timerFired(at: t0 + 3600) == [.exhausted])
        #expect(m.phase == .exhausted)
        #expect(m.timerFired(at: t0 + 9999) == [])
        // Exhausted pages can still be acknowledged (the providers' alerts are open).
        #expect(m.acknowledge(at: t0 + 4000) == [.acknowledge])
    }

    @Test(arguments: [0, 1, 2])
    func acknowledgementAtEachLevelStopsIt(level: Int) {
        var m = EscalationStateMachine(waits: [60, 60, 60], repeats: 0)
        _ = m.start(at: t0)
        for i in 0..<level { _ = m.timerFired(at: t0 + Double(60 * (i + 1))) }
        #expect(m.level == level)
        #expect(m.acknowledge(at: t0 + 1) == [.acknowledge])
        #expect(m.phase == .acknowledged)
        #expect(m.nextAt == nil)
        #expect(m.timerFired(at: t0 + 10_000) == [])
        #expect(m.escalate(at: t0 + 10_000) == [])
        #expect(m.acknowledge(at: t0 + 2) == [], "a second /ack does nothing")
        #expect(m.resolve(at: t0 + 3) == [.resolve])
        #expect(m.resolve(at: t0 + 4) == [])
    }

    @Test func escalateMovesOnNowAndCountsTheWaitFromNow() {
        var m = EscalationStateMachine(waits: [300, 600], repeats: 0)
        _ = m.start(at: t0)
        #expect(m.escalate(at: t0 + 10) == [.notify(level: 1, round: 0), .wait(until: t0 + 610)])
        #expect(m.escalate(at: t0 + 20) == [.exhausted])
    }

    @Test func catchesUpLevelByLevelAfterDowntime() {
        var m = EscalationStateMachine(waits: [300, 300, 300], repeats: 0)
        _ = m.start(at: t0)
        // Down from t0+1 to t0+700: the second level was due at +300, the third at +600.
        #expect(m.timerFired(at: t0 + 700) == [.notify(level: 1, round: 0), .wait(until: t0 + 600)])
        #expect(m.timerFired(at: t0 + 700) == [.notify(level: 2, round: 0), .wait(until: t0 + 900)])
        #expect(m.timerFired(at: t0 + 700) == [])
    }

    @Test func restoresFromPersistedColumns() {
        var m = EscalationStateMachine(waits: [300, 600], repeats: 2)
        _ = m.start(at: t0)
        _ = m.timerFired(at: t0 + 300)
        var restored = EscalationStateMachine(waits: [300, 600], repeats: 2, phase: m.phase, level: m.level, round: m.round, nextAt: m.nextAt)
        #expect(restored == m)
        #expect(restored.timerFired(at: t0 + 900) == m.timerFired(at: t0 + 900))
    }
}
