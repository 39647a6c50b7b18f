import Foundation
import Testing
import TriageChat
import TriageHandlers
import TriageRuntime

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

@Suite struct GlobalRateLimitTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)

    @Test func atMostNPerSecondAcrossRooms() {
        var l = RoomRateLimiter()
        let limit = SendRateLimit(interval: 1, globalPerSecond: 30)
        // 30 different chats in 0.29 s: each is allowed, then the 31st chat must wait.
        for i in 0..<30 {
            let now = t0.addingTimeInterval(Double(i) * 0.01)
            #expect(l.delay(room: "chat\(i)", limit: limit, now: now) == 0)
            l.record(room: "chat\(i)", limit: limit, now: now)
        }
        let wait = l.delay(room: "chat30", limit: limit, now: t0.addingTimeInterval(0.5))
        #expect(abs(wait - 0.5) < 1e-9)
        #expect(l.delay(room: "chat30", limit: limit, now: t0.addingTimeInterval(1.0)) == 0)
        // A reply split in several messages counts each one.
        var m = RoomRateLimiter()
        m.record(room: "a", limit: limit, count: 30, now: t0)
        #expect(m.delay(room: "b", limit: limit, now: t0.addingTimeInterval(0.2)) > 0.79)
        // No global cap: other rooms never wait.
        var n = RoomRateLimiter()
        let perRoom = SendRateLimit(interval: 1)
        n.record(room: "a", limit: perRoom, count: 100, now: t0)
        #expect(n.delay(room: "b", limit: perRoom, now: t0) == 0)
    }
}
