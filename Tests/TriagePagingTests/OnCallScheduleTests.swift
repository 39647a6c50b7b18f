import Foundation
import Testing
@testable import TriagePaging

@Suite struct OnCallScheduleTests {
    func utc(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }

    let berlin = OnCallSchedule(name: "primary", timeZone: TimeZone(identifier: "Europe/Berlin")!, handoffHour: 9, handoffMinute: 0,
                                rotationSeconds: 86400, start: (2026, 3, 27), people: ["alice", "bob", "carol"])

    @Test func rotatesAtTheHandoff() {
        // 27 March 2026 is still CET (UTC+1): handoff 09:00 local = 08:00 UTC.
        #expect(berlin.shift(at: utc("2026-03-27T07:59:59Z")).person == "carol", "before the first handoff: the previous shift")
        let first = berlin.shift(at: utc("2026-03-27T08:00:00Z"))
        #expect(first.person == "alice")
        #expect(first.startsAt == utc("2026-03-27T08:00:00Z"))
        #expect(first.endsAt == utc("2026-03-28T08:00:00Z"))
        #expect(berlin.shift(at: utc("2026-03-28T07:59:00Z")).person == "alice")
        #expect(berlin.shift(at: utc("2026-03-28T08:00:00Z")).person == "bob")
    }

    @Test func handoffStaysAtLocalTimeAcrossDaylightSaving() {
        // Clocks go forward on 29 March 2026 at 02:00 CET: 09:00 local becomes 07:00 UTC.
        let bob = berlin.shift(at: utc("2026-03-28T12:00:00Z"))
        #expect(bob.person == "bob")
        #expect(bob.endsAt == utc("2026-03-29T07:00:00Z"), "a 23-hour shift on the change day")
        #expect(bob.endsAt.timeIntervalSince(bob.startsAt) == 23 * 3600)
        #expect(berlin.shift(at: utc("2026-03-29T06:59:59Z")).person == "bob")
        let carol = berlin.shift(at: utc("2026-03-29T07:00:00Z"))
        #expect(carol.person == "carol")
        #expect(carol.endsAt == utc("2026-03-30T07:00:00Z"))
        #expect(berlin.localDescription(of: carol.endsAt) == "2026-03-30 09:00 Europe/Berlin (UTC+02:00)")
        #expect(berlin.localDescription(of: bob.startsAt) == "2026-03-28 09:00 Europe/Berlin (UTC+01:00)")
    }

    @Test func weeklyRotationInNewYorkAcrossTheAutumnChange() {
        // DST ends on 1 November 2026 in New York: 10:00 local is 14:00 UTC before, 15:00 UTC after.
        let ny = OnCallSchedule(name: "secondary", timeZone: TimeZone(identifier: "America/New_York")!, handoffHour: 10, handoffMinute: 0,
                                rotationSeconds: 7 * 86400, start: (2026, 10, 26), people: ["carol", "dave"])
        let carol = ny.shift(at: utc("2026-10-30T12:00:00Z"))
        #expect(carol.person == "carol")
        #expect(carol.startsAt == utc("2026-10-26T14:00:00Z"))
        #expect(carol.endsAt == utc("2026-11-02T15:00:00Z"), "the week has 169 hours")
        #expect(ny.shift(at: utc("2026-11-02T14:30:00Z")).person == "carol")
        #expect(ny.shift(at: utc("2026-11-02T15:00:00Z")).person == "dave")
        let (now, next) = ny.nowAndNext(at: utc("2026-11-01T00:00:00Z"))
        #expect(now.person == "carol")
        #expect(next.person == "dave")
        #expect(next.startsAt == utc("2026-11-02T15:00:00Z"))
        #expect(next.endsAt == utc("2026-11-09T15:00:00Z"))
    }

    @Test func overrideWinsWhileItLastsAndSplitsTheShift() {
        let o = OnCallOverride(schedule: "primary", person: "dave", startsAt: utc("2026-03-27T12:00:00Z"), endsAt: utc("2026-03-27T16:00:00Z"))
        let before = berlin.shift(at: utc("2026-03-27T10:00:00Z"), extraOverrides: [o])
        #expect(before.person == "alice")
        #expect(before.endsAt == o.startsAt, "alice's shift is cut by the override")
        let during = berlin.shift(at: utc("2026-03-27T13:00:00Z"), extraOverrides: [o])
        #expect(during.person == "dave")
        #expect(during.isOverride)
        #expect(during.endsAt == o.endsAt)
        let after = berlin.shift(at: utc("2026-03-27T16:00:00Z"), extraOverrides: [o])
        #expect(after.person == "alice")
        #expect(after.startsAt == o.endsAt)
        #expect(after.endsAt == utc("2026-03-28T08:00:00Z"))
        // An override for another schedule changes nothing.
        var other = o
        other.schedule = "secondary"
        #expect(berlin.shift(at: utc("2026-03-27T13:00:00Z"), extraOverrides: [other]).person == "alice")
    }

    @Test func hourBasedRotation() {
        let s = OnCallSchedule(name: "follow-the-sun", timeZone: TimeZone(identifier: "UTC")!, handoffHour: 0, handoffMinute: 0,
                               rotationSeconds: 8 * 3600, start: (2026, 1, 1), people: ["a", "b", "c"])
        #expect(s.shift(at: utc("2026-01-01T07:59:00Z")).person == "a")
        #expect(s.shift(at: utc("2026-01-01T08:00:00Z")).person == "b")
        #expect(s.shift(at: utc("2026-01-01T16:00:00Z")).person == "c")
        #expect(s.shift(at: utc("2026-01-02T00:00:00Z")).person == "a")
        #expect(s.shift(at: utc("2025-12-31T23:00:00Z")).person == "c")
    }
}
