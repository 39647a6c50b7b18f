import Foundation

/// Timestamps as people read them in incident reviews: always UTC, always with the date.
public enum UTCTime {
    /// `2026-11-27 14:03:07 UTC`
    public static func format(_ date: Date) -> String {
        guard let t = seconds(date) else { return "(time out of range)" }
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let secs = t - days * 86400
        let (y, m, d) = civil(fromDays: days)
        return "\(y)-\(pad(m))-\(pad(d)) \(pad(Int(secs / 3600))):\(pad(Int(secs % 3600 / 60))):\(pad(Int(secs % 60))) UTC"
    }

    /// `2026-11-27T14:03:07Z` (ISO 8601)
    public static func iso(_ date: Date) -> String {
        let s = format(date)
        guard seconds(date) != nil else { return s }
        return String(s.prefix(10)) + "T" + String(s.dropFirst(11).prefix(8)) + "Z"
    }

    /// Whole seconds since 1970 when `date` is within ±100 million years (nil for NaN,
    /// infinities and values that would overflow the calendar arithmetic).
    static func seconds(_ date: Date) -> Int64? {
        let t = date.timeIntervalSince1970
        guard t.isFinite, abs(t) < 3e15 else { return nil }
        return Int64(t.rounded(.down))
    }

    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
    static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }
}
