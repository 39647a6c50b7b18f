import Foundation

/// Per-room send pacing for the outbox: a minimum interval between messages and an optional
/// cap per 60 seconds. A value type fed with times, so tests need no clock.
public struct RoomRateLimiter: Sendable {
    private var nextAt: [String: Date] = [:]
    private var history: [String: [Date]] = [:]

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
    }
}
