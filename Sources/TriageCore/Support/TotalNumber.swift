/// Conversions from floating point and decimal text that cannot trap, whatever the value:
/// NaN, ±Infinity, 1e308 and numerics with thousands of digits all give a string.
public enum TotalNumber {
    /// The largest magnitude below which `Double` → `Int` conversion is always exact and safe
    /// (2^53); beyond it the formatters switch to exponent notation or exact digit strings.
    public static let exactIntegerLimit: Double = 9_007_199_254_740_992

    /// `value` as an `Int` when it is finite and fits, else nil (never traps).
    public static func int(_ value: Double) -> Int? {
        guard value.isFinite, value > -9.2e18, value < 9.2e18 else { return nil }
        return Int(value)
    }

    /// `value` rounded to an `Int64`, clamped to the representable range (NaN gives 0).
    public static func clampedInt64(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        if value >= 9.2e18 { return Int64.max }
        if value <= -9.2e18 { return Int64.min }
        return Int64(value.rounded())
    }

    /// Nanoseconds for a wait of `seconds` from a server hint or a backoff: NaN, negative and
    /// absurd values (`retry_after: 1e300`) cannot trap; capped at an hour.
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return UInt64(min(seconds, 3600) * 1e9)
    }

    /// PostgreSQL's spelling of non-finite values (`NaN`, `Infinity`, `-Infinity`).
    public static func nonFinite(_ value: Double) -> String {
        value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity")
    }

    /// `value` with exactly `decimals` decimals (0...6), without Foundation's locale.
    /// Magnitudes too large for fixed notation keep Swift's shortest round-trip form
    /// (`1e+300`); non-finite values are spelled as PostgreSQL does.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return nonFinite(value) }
        let places = max(0, min(6, decimals))
        var factor = 1.0
        for _ in 0..<places { factor *= 10 }
        let scaled = (value * factor).rounded()
        guard abs(scaled) < exactIntegerLimit else {
            let whole = value.rounded()
            if abs(whole) < 9.2e18 { return String(Int64(whole)) }
            return "\(value)"
        }
        let n = Int64(scaled)
        let unit = Int64(factor)
        let magnitude = n.magnitude
        let whole = magnitude / UInt64(unit)
        let sign = n < 0 ? "-" : ""
        guard places > 0 else { return sign + String(whole) }
        let frac = String(magnitude % UInt64(unit))
        return sign + String(whole) + "." + String(repeating: "0", count: places - frac.count) + frac
    }

    /// Rounds a plain decimal string (`-12345678901234567890.125`) to `decimals` places
    /// exactly, digit by digit; nil when `text` is not `[+-]digits[.digits]`. Trailing
    /// zero decimals are dropped when `trimWhole` and the rounded value is whole.
    public static func roundedDecimal(_ text: String, decimals: Int, trimWhole: Bool) -> String? {
        var bytes = Array(text.utf8)
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            bytes.removeFirst()
        }
        let dot = bytes.firstIndex(of: UInt8(ascii: "."))
        let intPart = dot.map { Array(bytes[..<$0]) } ?? bytes
        let fracPart = dot.map { Array(bytes[bytes.index(after: $0)...]) } ?? []
        let isDigit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        guard !intPart.isEmpty || !fracPart.isEmpty, intPart.allSatisfy(isDigit), fracPart.allSatisfy(isDigit) else { return nil }
        let places = max(0, decimals)
        // Digits kept: the whole part and `places` decimals (padded), then round on the next one.
        var digits = (intPart.isEmpty ? [UInt8(ascii: "0")] : intPart)
        for i in 0..<places { digits.append(i < fracPart.count ? fracPart[i] : UInt8(ascii: "0")) }
        if places < fracPart.count, fracPart[places] >= UInt8(ascii: "5") {
            var i = digits.count - 1
            var carry = true
            while carry && i >= 0 {
                if digits[i] == UInt8(ascii: "9") { digits[i] = UInt8(ascii: "0"); i -= 1 } else { digits[i] += 1; carry = false }
            }
            if carry { digits.insert(UInt8(ascii: "1"), at: 0) }
        }
        let split = digits.count - places
        var whole = Array(digits[..<split])
        let frac = Array(digits[split...])
        while whole.count > 1 && whole[0] == UInt8(ascii: "0") { whole.removeFirst() }
        let isZero = whole == [UInt8(ascii: "0")] && frac.allSatisfy { $0 == UInt8(ascii: "0") }
        let fracIsZero = frac.allSatisfy { $0 == UInt8(ascii: "0") }
        let sign = negative && !isZero ? "-" : ""
        let w = String(decoding: whole, as: UTF8.self)
        if places == 0 || (trimWhole && fracIsZero) { return sign + w }
        return sign + w + "." + String(decoding: frac, as: UTF8.self)
    }
}
