import Foundation
import TriageChat

/// Send pacing for the outbox: per room a minimum interval between messages and an optional
/// cap per 60 seconds, and across all rooms an optional cap per second. A value type fed
/// with times, so tests need no clock.
public struct RoomRateLimiter: Sendable {
    private var nextAt: [String: Date] = [:]
    private var history: [String: [Date]] = [:]
    /// Send times of the last second, all rooms together (only kept when a global cap is set).
    private var recentAll: [Date] = []

    public init() {}

    /// Seconds to wait before the next message to `room` may be sent (0: now).
    public func delay(room: String, limit: SendRateLimit, now: Date) -> Double {
        var wait = nextAt[room].map { $0.timeIntervalSince(now) } ?? 0
        if let perMinute = limit.perMinute, let sent = history[room] {
            let recent = sent.filter { now.timeIntervalSince($0) < 60 }
            if recent.count >= perMinute {
                wait = max(wait, 60 - now.timeIntervalSince(recent[recent.count - perMinute]))
            }
        }
        if let perSecond = limit.globalPerSecond {
            let recent = recentAll.filter { now.timeIntervalSince($0) < 1 }
            if recent.count >= perSecond {
                wait = max(wait, 1 - now.timeIntervalSince(recent[recent.count - perSecond]))
            }
        }
        return max(0, wait)
    }

    /// Records that `count` messages were just sent to `room`.
    public mutating func record(room: String, limit: SendRateLimit, count: Int = 1, now: Date) {
        let n = max(1, count)
        nextAt[room] = now.addingTimeInterval(limit.interval * Double(n))
        if limit.perMinute != nil {
            var sent = (history[room] ?? []).filter { now.timeIntervalSince($0) < 60 }
            sent.append(contentsOf: Array(repeating: now, count: n))
            history[room] = sent
        }
        if limit.globalPerSecond != nil {
            recentAll.removeAll { now.timeIntervalSince($0) >= 1 }
            recentAll.append(contentsOf: Array(repeating: now, count: n))
        }
        // Forget rooms whose pacing is over, so the maps do not grow with every chat ever seen.
        if nextAt.count > 1024 {
            nextAt = nextAt.filter { $0.value > now }
            history = history.filter { $0.value.contains { now.timeIntervalSince($0) < 60 } }
        }
    }
}
