import Foundation
import Testing
@testable import TriageCore

/// Formatting is total: database values at every extreme give a string, never a trap.
@Suite struct TotalFormattingTests {
    static let units: [ColumnSpec.Unit] = [.none, .number, .bytes, .percent, .seconds, .milliseconds, .duration]

    @Test func bigintExtremesAreShownExactly() {
        #expect(ValueFormatter.format("9223372036854775807", unit: .number) == "9223372036854775807")
        #expect(ValueFormatter.format("-9223372036854775808", unit: .number) == "-9223372036854775808")
        #expect(ValueFormatter.format("99999999999999999999999999999999999999.995", unit: .number)
                == "100000000000000000000000000000000000000")
        #expect(ValueFormatter.format("3.14159", unit: .number) == "3.14")
        #expect(ValueFormatter.format("-0.004", unit: .number) == "0")
        #expect(ValueFormatter.format("2.50", unit: .number) == "2.50")
        #expect(ValueFormatter.format("7", unit: .number) == "7")
        #expect(ValueFormatter.format("+7.999", unit: .number) == "8")
        let huge = String(repeating: "9", count: 5000) + ".995"
        #expect(ValueFormatter.format(huge, unit: .number) == "1" + String(repeating: "0", count: 5000))
    }

    @Test func nonFiniteValuesAreSpelledAsPostgreSQLDoes() {
        for unit in Self.units where unit != .none {
            #expect(ValueFormatter.format("NaN", unit: unit) == "NaN" || unit == .seconds || unit == .duration)
            #expect(ValueFormatter.format("Infinity", unit: unit).contains("Infinity") || unit == .seconds || unit == .duration)
            _ = ValueFormatter.format("-Infinity", unit: unit)
        }
        #expect(ValueFormatter.format("NaN", unit: .duration) == "-")
        #expect(ValueFormatter.format("1e308", unit: .number) == "1e+308")
        #expect(ValueFormatter.format("-1.5e-300", unit: .number) == "0.00" || ValueFormatter.format("-1.5e-300", unit: .number) == "-0.00")
    }

    @Test func hugeMagnitudesInEveryUnit() {
        #expect(ValueFormatter.format("9223372036854775807", unit: .bytes) == "8.0 EB")
        #expect(ValueFormatter.format("-9223372036854775808", unit: .bytes) == "-8.0 EB")
        #expect(ValueFormatter.format("1e300", unit: .bytes).hasSuffix(" YB"))
        #expect(ValueFormatter.format("9223372036854775807", unit: .percent) == "9223372036854775807.0%")
        #expect(ValueFormatter.format("9223372036854775807", unit: .duration).hasSuffix("d"))
        #expect(ValueFormatter.format("-9223372036854775808", unit: .seconds).hasPrefix("-"))
        #expect(ValueFormatter.format("1e300", unit: .milliseconds).hasSuffix("d"))
        #expect(DurationFormatter.format(seconds: .greatestFiniteMagnitude).hasSuffix("d"))
        #expect(DurationFormatter.format(seconds: -.greatestFiniteMagnitude).hasPrefix("-"))
        #expect(DurationFormatter.format(seconds: 3725) == "1h02m")
    }

    @Test func datesOutOfRangeDoNotTrap() {
        for t in [Double.nan, .infinity, -.infinity, 1e300, -1e300, 9.3e18] {
            let date = Date(timeIntervalSince1970: t)
            #expect(UTCTime.format(date) == "(time out of range)")
            _ = UTCTime.iso(date)
            var buffer = TextBuffer()
            buffer.write(utc: date)
            buffer.write(utc: date, iso: true)
            buffer.write(decimal: t)
        }
        #expect(UTCTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00 UTC")
    }

    @Test func durationArgumentsThatWouldOverflowAreRefused() {
        #expect(DurationParser.seconds("999999999999999999") == nil)
        #expect(DurationParser.seconds("153722867280912931m") == nil)
        #expect(DurationParser.seconds("9223372036854775807s1s") == nil)
        #expect(DurationParser.seconds("10m") == 600)
    }

    /// Random values, random digit strings and every bit pattern class through every unit.
    @Test func fuzzTheFormatter() {
        var rng = SystemRandomNumberGenerator()
        let specials = ["", "-", "+", ".", "-.", "1.", ".5", "NaN", "nan", "Infinity", "-Infinity", "inf", "1e", "0x1p3",
                        "00000", "-0", "1e-400", "1e400", "٣", "1 2", "9".padding(toLength: 400, withPad: "9", startingAt: 0)]
        var inputs: [String] = specials
        for _ in 0..<4000 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                inputs.append("\(Double(bitPattern: rng.next()))")
            case 1:
                let digits = String((0..<Int.random(in: 1...60, using: &rng)).map { _ in "0123456789".randomElement(using: &rng) ?? "0" })
                let frac = Bool.random(using: &rng) ? "." + String(digits.prefix(Int.random(in: 0...10, using: &rng))) : ""
                inputs.append((Bool.random(using: &rng) ? "-" : "") + digits + frac)
            case 2:
                inputs.append(String(Int64.random(in: .min ... .max, using: &rng)))
            default:
                let chars = Array("0123456789.-+eE naNIfinity")
                inputs.append(String((0..<Int.random(in: 0...20, using: &rng)).map { _ in chars.randomElement(using: &rng) ?? "0" }))
            }
        }
        for raw in inputs {
            for unit in Self.units {
                let shown = ValueFormatter.format(raw, unit: unit)
                #expect(!shown.isEmpty || raw.isEmpty, "\(raw) as \(unit)")
            }
            if let d = Double(raw) {
                _ = DurationFormatter.format(seconds: d)
                _ = String(format1: d)
                _ = String(format2: d)
                _ = UTCTime.format(Date(timeIntervalSince1970: d))
                _ = ColumnSpec(name: "x", warn: d, critical: d).mark(for: raw)
            }
            if raw.allSatisfy(\.isNumber), let n = Int64(raw) {
                #expect(ValueFormatter.format(raw, unit: .number) == String(n))
            }
        }
    }

    /// A date written again in the same second comes from the buffer's memo: it must be the
    /// same text in the same form, whatever was drained or written in between.
    @Test func repeatedDatesAreWrittenAsTheFirstTime() {
        let a = Date(timeIntervalSince1970: 1_773_478_800.25)   // 2026-03-14 09:00:00
        let b = Date(timeIntervalSince1970: 1_773_478_801.9)
        var buffer = TextBuffer()
        var drained: [UInt8] = []
        buffer.write(utc: a)
        buffer.drain { drained += $0 }
        buffer.write("x|")
        buffer.write(utc: a.addingTimeInterval(0.5))
        buffer.write("|")
        buffer.write(utc: a, iso: true)
        buffer.write("|")
        buffer.write(utc: b)
        buffer.write("|")
        buffer.write(utc: a)
        #expect(buffer.string == "x|2026-03-14 09:00:00 UTC|2026-03-14T09:00:00Z|2026-03-14 09:00:01 UTC|2026-03-14 09:00:00 UTC")
        _ = buffer.take()
        buffer.write(utc: a)
        #expect(String(decoding: drained, as: UTF8.self) == "2026-03-14 09:00:00 UTC")
        #expect(buffer.string == "2026-03-14 09:00:00 UTC")
        var all = TextBuffer()
        for d in [a, a, b, b, a] { all.write(utc: d, iso: d == b); all.write(",") }
        #expect(all.string == "2026-03-14 09:00:00 UTC,2026-03-14 09:00:00 UTC,2026-03-14T09:00:01Z,2026-03-14T09:00:01Z,2026-03-14 09:00:00 UTC,")
    }
}
