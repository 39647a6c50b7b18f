/// Formats raw PostgreSQL text values by unit: bytes as `12 MB`, durations as `3m05s`.
///
/// Total: every input gives a string. Exact integers and decimals (bigint and numeric
/// extremes, numerics with thousands of digits) are rounded digit by digit, never through a
/// trapping conversion; `NaN` and `±Infinity` are shown as PostgreSQL spells them; text that
/// is not a number is shown as is.
public enum ValueFormatter {
    public static func format(_ raw: String?, unit: ColumnSpec.Unit) -> String {
        guard let raw else { return "-" }
        switch unit {
        case .none:
            return raw
        case .number:
            if let exact = TotalNumber.roundedDecimal(raw, decimals: 2, trimWhole: true) { return exact }
            guard let d = Double(raw) else { return raw }
            guard d.isFinite else { return TotalNumber.nonFinite(d) }
            return d == d.rounded() ? TotalNumber.fixed(d, decimals: 0) : String(format2: d)
        case .bytes:
            guard let d = Double(raw) else { return raw }
            return bytes(d)
        case .percent:
            if let exact = TotalNumber.roundedDecimal(raw, decimals: 1, trimWhole: false) { return exact + "%" }
            guard let d = Double(raw) else { return raw }
            guard d.isFinite else { return TotalNumber.nonFinite(d) }
            return String(format1: d) + "%"
        case .seconds, .duration:
            guard let d = Double(raw) else { return raw }
            return DurationFormatter.format(seconds: d)
        case .milliseconds:
            guard let d = Double(raw) else { return raw }
            guard d.isFinite else { return TotalNumber.nonFinite(d) }
            if abs(d) < 1000 { return String(format2: d) + " ms" }
            return DurationFormatter.format(seconds: d / 1000)
        case .boolean:
            return raw == "t" ? "yes" : raw == "f" ? "no" : raw
        case .timestamp:
            return timestamp(raw)
        }
    }

    /// `2026-12-01 19:58:07.967088+00` → `2026-12-01 19:58:07 UTC`; another offset is kept
    /// (`… 20:58:07 +01`); anything else as is.
    public static func timestamp(_ raw: String) -> String {
        let chars = Array(raw)
        // Only PostgreSQL's own shape: YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]].
        let shape = Array("0000-00-00 00:00:00")
        guard chars.count >= shape.count,
              zip(chars, shape).allSatisfy({ c, s in s == "0" ? c.isASCII && c.isNumber : c == s }) else { return raw }
        let rest = raw.dropFirst(shape.count)
        let zone = rest.drop { $0 == "." || ($0.isASCII && $0.isNumber) }
        guard zone.isEmpty || zone.first == "+" || zone.first == "-",
              zone.dropFirst().allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == ":" }) else { return raw }
        return String(raw.prefix(shape.count)) + (zone == "+00" ? " UTC" : zone.isEmpty ? "" : " " + zone)
    }

    public static func bytes(_ value: Double) -> String {
        guard value.isFinite else { return TotalNumber.nonFinite(value) }
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        var v = value
        var i = 0
        while abs(v) >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? TotalNumber.fixed(v, decimals: 0) + " B" : String(format1: v) + " " + units[i]
    }
}

extension String {
    /// A number with one decimal, without Foundation's locale (total: see ``TotalNumber``).
    init(format1 value: Double) {
        self = TotalNumber.fixed(value, decimals: 1)
    }
}
