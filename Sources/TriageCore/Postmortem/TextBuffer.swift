import Foundation

/// A growable UTF-8 byte buffer for building large documents (a postmortem of 100,000 events)
/// in linear time, with the escapings the renderers need. Escaping copies runs of ordinary
/// bytes in bulk and only handles the special ones one by one.
public struct TextBuffer: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// The last date written (its second and form) and its bytes: a timeline writes the same
    /// second many times in a row (a million events in four hours: about seventy each).
    private var lastDate: (second: Int64, iso: Bool)?
    private var lastDateBytes: [UInt8] = []

    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// The document as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// The document as data (no UTF-8 validation pass).
    public var data: Data { Data(bytes) }

    /// Bytes written since the last ``take()``.
    public var count: Int { bytes.count }

    /// Hands over the bytes written so far and empties the buffer (keeping its capacity), for
    /// writing a large document to a file piece by piece.
    public mutating func take() -> [UInt8] {
        let out = bytes
        bytes.removeAll(keepingCapacity: true)
        return out
    }

    /// Hands the bytes written so far to `emit` and empties the buffer, keeping its storage
    /// (no new buffer per piece, as ``take()`` needs when its result is kept).
    public mutating func drain(_ emit: ([UInt8]) throws -> Void) rethrows {
        guard !bytes.isEmpty else { return }
        try emit(bytes)
        bytes.removeAll(keepingCapacity: true)
    }

    /// Past this many bytes a streaming renderer hands its buffer to the writer.
    public static let flushSize = 1 << 20

    /// Appends `text` as is.
    public mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Appends several pieces as is.
    public mutating func write(_ parts: String...) {
        for p in parts { write(p) }
    }

    /// Appends an integer in decimal.
    public mutating func write(int value: Int) {
        if value >= 0 && value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        bytes.append(contentsOf: String(value).utf8)   // small strings live inline: no allocation
    }

    /// Appends a number with one decimal (`12.5`), for SVG coordinates.
    public mutating func write(decimal value: Double) {
        guard value.isFinite, abs(value) < 1e15 else { write(TotalNumber.fixed(value, decimals: 1)); return }
        let tenths = Int((value * 10).rounded())
        if tenths < 0 { bytes.append(UInt8(ascii: "-")) }
        write(int: abs(tenths) / 10)
        let frac = abs(tenths) % 10
        if frac != 0 {
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(ascii: "0") + UInt8(frac))
        }
    }

    private mutating func two(_ n: Int) {
        bytes.append(UInt8(ascii: "0") + UInt8(n / 10))
        bytes.append(UInt8(ascii: "0") + UInt8(n % 10))
    }

    /// Appends `2026-11-27 14:03:07 UTC` (as ``UTCTime/format(_:)``), or with `iso`
    /// `2026-11-27T14:03:07Z`, without intermediate strings.
    public mutating func write(utc date: Date, iso: Bool = false) {
        guard let t = UTCTime.seconds(date) else { write(UTCTime.format(date)); return }
        if let last = lastDate, last.second == t, last.iso == iso {
            bytes.append(contentsOf: lastDateBytes)
            return
        }
        let begin = bytes.count
        defer {
            lastDate = (t, iso)
            lastDateBytes = Array(bytes[begin...])
        }
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let secs = Int(t - days * 86400)
        let (y, m, d) = UTCTime.civil(fromDays: days)
        if y >= 0 && y < 10000 {
            two(y / 100)
            two(y % 100)
        } else {
            write(int: y)
        }
        bytes.append(UInt8(ascii: "-"))
        two(m)
        bytes.append(UInt8(ascii: "-"))
        two(d)
        bytes.append(UInt8(ascii: iso ? "T" : " "))
        two(secs / 3600)
        bytes.append(UInt8(ascii: ":"))
        two(secs % 3600 / 60)
        bytes.append(UInt8(ascii: ":"))
        two(secs % 60)
        if iso {
            bytes.append(UInt8(ascii: "Z"))
        } else {
            bytes.append(contentsOf: [0x20, UInt8(ascii: "U"), UInt8(ascii: "T"), UInt8(ascii: "C")])
        }
    }

    /// Appends `text` escaped for XML/HTML text and attribute values; characters XML 1.0 does
    /// not allow (most control characters) are dropped. With `limit`, at most that many
    /// characters (Unicode scalars) are kept and `…` marks the cut.
    public mutating func write(xml text: String, limit: Int = Int.max) {
        var text = text
        text.withUTF8 { buf in
            var start = 0
            var scalars = 0
            var i = 0
            let n = buf.count
            while i < n {
                let b = buf[i]
                if b & 0xC0 != 0x80 {
                    if scalars == limit {
                        flush(buf, start, i)
                        bytes.append(contentsOf: [0xE2, 0x80, 0xA6])   // …
                        return
                    }
                    scalars += 1
                }
                if b < 0x20 || b == 0x26 || b == 0x3C || b == 0x3E || b == 0x22 || b == 0x7F {
                    flush(buf, start, i)
                    switch b {
                    case 0x26: bytes.append(contentsOf: "&amp;".utf8)
                    case 0x3C: bytes.append(contentsOf: "&lt;".utf8)
                    case 0x3E: bytes.append(contentsOf: "&gt;".utf8)
                    case 0x22: bytes.append(contentsOf: "&quot;".utf8)
                    case 0x09, 0x0A, 0x0D: bytes.append(b)
                    default: break   // not allowed in XML 1.0
                    }
                    start = i + 1
                }
                i += 1
            }
            flush(buf, start, n)
        }
    }

    /// Appends `text` for a Markdown table cell: one line, `|` escaped, HTML escaped; with
    /// `inCode`, backticks become `'` so the text can sit between backticks.
    public mutating func write(cell text: String, inCode: Bool = false) {
        var text = text
        text.withUTF8 { buf in
            var start = 0
            let n = buf.count
            for i in 0..<n {
                let b = buf[i]
                guard b < 0x20 || b == 0x7C || b == 0x26 || b == 0x3C || b == 0x3E || b == 0x7F || (inCode && b == 0x60) else { continue }
                flush(buf, start, i)
                switch b {
                case 0x60: bytes.append(UInt8(ascii: "'"))
                case 0x7C: bytes.append(contentsOf: "\\|".utf8)
                case 0x26: bytes.append(contentsOf: "&amp;".utf8)
                case 0x3C: bytes.append(contentsOf: "&lt;".utf8)
                case 0x3E: bytes.append(contentsOf: "&gt;".utf8)
                case 0x0A: bytes.append(contentsOf: "<br>".utf8)
                case 0x0D: break
                default: bytes.append(UInt8(ascii: " "))
                }
                start = i + 1
            }
            flush(buf, start, n)
        }
    }

    /// Appends `text` as a JSON string literal, quotes included.
    public mutating func write(json text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { buf in
            var start = 0
            let n = buf.count
            for i in 0..<n {
                let b = buf[i]
                guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
                flush(buf, start, i)
                switch b {
                case 0x22: bytes.append(contentsOf: "\\\"".utf8)
                case 0x5C: bytes.append(contentsOf: "\\\\".utf8)
                case 0x0A: bytes.append(contentsOf: "\\n".utf8)
                case 0x0D: bytes.append(contentsOf: "\\r".utf8)
                case 0x09: bytes.append(contentsOf: "\\t".utf8)
                default:
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(hex.utf8Start[Int(b >> 4)])
                    bytes.append(hex.utf8Start[Int(b & 0xF)])
                }
                start = i + 1
            }
            flush(buf, start, n)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private mutating func flush(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) {
        if from < to { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[from..<to])) }
    }
}

/// JSON string quoting for small documents.
public enum JSONText {
    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var b = TextBuffer(capacity: text.utf8.count + 2)
        b.write(json: text)
        return b.string
    }
}
