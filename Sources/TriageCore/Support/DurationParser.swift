/// Parses durations as people type them: `90s`, `10m`, `2h`, `1d`, `1h30m`, `45` (minutes).
public enum DurationParser {
    /// The duration in seconds, or nil when `text` is not a duration.
    public static func seconds(_ text: String) -> Int? {
        let s = text.lowercased().trimmingSpaces()
        guard !s.isEmpty, s.count <= 32 else { return nil }
        if let minutes = Int(s) {
            let (seconds, overflow) = minutes.multipliedReportingOverflow(by: 60)
            return minutes >= 0 && !overflow ? seconds : nil
        }
        var total = 0
        var number = ""
        var sawUnit = false
        var chars = Array(s)
        chars.append("\u{0}")
        var i = 0
        while i < chars.count - 1 {
            let c = chars[i]
            if c.isNumber {
                number.append(c)
                i += 1
                continue
            }
            var unit = ""
            while i < chars.count - 1, chars[i].isLetter { unit.append(chars[i]); i += 1 }
            guard let n = Int(number), !unit.isEmpty else { return nil }
            let factor: Int
            switch unit {
            case "s", "sec", "secs", "second", "seconds": factor = 1
            case "m", "min", "mins", "minute", "minutes": factor = 60
            case "h", "hr", "hrs", "hour", "hours": factor = 3600
            case "d", "day", "days": factor = 86400
            case "w", "week", "weeks": factor = 604800
            default: return nil
            }
            let (product, overflow) = n.multipliedReportingOverflow(by: factor)
            let (sum, sumOverflow) = total.addingReportingOverflow(product)
            guard !overflow, !sumOverflow else { return nil }
            total = sum
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }
}

/// Formats durations compactly for replies: `45s`, `12m05s`, `3h02m`, `2d04h`.
public enum DurationFormatter {
    public static func format(seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        if seconds < 0 { return "-" + format(seconds: -seconds) }
        if seconds < 10 && seconds != seconds.rounded() {
            return String(format2: seconds) + "s"
        }
        // Beyond a million years the exact split is noise (and would overflow `Int`).
        guard seconds < 3e13 else { return TotalNumber.fixed(seconds / 86400, decimals: 0) + "d" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + pad(s % 60) + "s" }
        if s < 86400 { return "\(s / 3600)h" + pad(s % 3600 / 60) + "m" }
        return "\(s / 86400)d" + pad(s % 86400 / 3600) + "h"
    }

    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

extension String {
    /// A number with two decimals, without Foundation's locale (total: see ``TotalNumber``).
    init(format2 value: Double) {
        self = TotalNumber.fixed(value, decimals: 2)
    }
}
