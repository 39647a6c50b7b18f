import Foundation
import Testing
import TriageApp

@Suite struct RoomRateLimiterTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)

    @Test func oneMessagePerIntervalPerRoom() {
        var l = RoomRateLimiter()
        let limit = SendRateLimit(interval: 1)
        #expect(l.delay(room: "a", limit: limit, now: t0) == 0)
        l.record(room: "a", limit: limit, now: t0)
        #expect(l.delay(room: "a", limit: limit, now: t0.addingTimeInterval(0.25)) == 0.75)
        #expect(l.delay(room: "b", limit: limit, now: t0) == 0)
        #expect(l.delay(room: "a", limit: limit, now: t0.addingTimeInterval(1)) == 0)
        l.record(room: "a", limit: limit, count: 3, now: t0.addingTimeInterval(1))
        #expect(l.delay(room: "a", limit: limit, now: t0.addingTimeInterval(2)) == 2)
    }

    @Test func groupsAtMostNPerMinute() {
        var l = RoomRateLimiter()
        let limit = SendRateLimit(interval: 0, perMinute: 20)
        for i in 0..<20 { l.record(room: "-1", limit: limit, now: t0.addingTimeInterval(Double(i))) }
        #expect(l.delay(room: "-1", limit: limit, now: t0.addingTimeInterval(20)) == 40)
        #expect(l.delay(room: "-1", limit: limit, now: t0.addingTimeInterval(60)) == 0)
    }
}
