/// A growable UTF-8 byte buffer for building large documents (a postmortem of 100,000 events)
/// in linear time, with the escapings the renderers need.
public struct TextBuffer: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// The document as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends `text` as is.
    public mutating func write(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends several pieces as is.
    public mutating func write(_ parts: String...) {
        for p in parts { bytes.append(contentsOf: p.utf8) }
    }

    /// Appends an integer in decimal.
    public mutating func write(int value: Int) {
        bytes.append(contentsOf: String(value).utf8)   // small strings live inline: no allocation
    }

    /// Appends a number with one decimal (`12.5`), for SVG coordinates.
    public mutating func write(decimal value: Double) {
        let tenths = Int((value * 10).rounded())
        if tenths < 0 { bytes.append(UInt8(ascii: "-")) }
        write(int: abs(tenths) / 10)
        let frac = abs(tenths) % 10
        if frac != 0 {
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(ascii: "0") + UInt8(frac))
        }
    }

    /// Appends `text` escaped for XML/HTML text and attribute values; characters XML 1.0 does
    /// not allow (most control characters) are dropped.
    public mutating func write(xml text: String, limit: Int = Int.max) {
        var count = 0
        for b in text.utf8 {
            if count >= limit, b & 0xC0 != 0x80 {
                bytes.append(contentsOf: [0xE2, 0x80, 0xA6])   // …
                return
            }
            if b & 0xC0 != 0x80 { count += 1 }
            switch b {
            case UInt8(ascii: "&"): bytes.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): bytes.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): bytes.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): bytes.append(contentsOf: "&quot;".utf8)
            case 0x09, 0x0A, 0x0D: bytes.append(b)
            case 0..<0x20, 0x7F: continue
            default: bytes.append(b)
            }
        }
    }

    /// Appends `text` for a Markdown table cell: one line, `|` escaped, HTML escaped.
    public mutating func write(cell text: String) {
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "|"): bytes.append(contentsOf: "\\|".utf8)
            case UInt8(ascii: "&"): bytes.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): bytes.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): bytes.append(contentsOf: "&gt;".utf8)
            case 0x0A: bytes.append(contentsOf: "<br>".utf8)
            case 0x0D: continue
            case 0..<0x20, 0x7F: bytes.append(UInt8(ascii: " "))
            default: bytes.append(b)
            }
        }
    }

    /// Appends `text` as a JSON string literal, quotes included.
    public mutating func write(json text: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
            case 0x0A: bytes.append(contentsOf: "\\n".utf8)
            case 0x0D: bytes.append(contentsOf: "\\r".utf8)
            case 0x09: bytes.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(hex[Int(b >> 4)])
                bytes.append(hex[Int(b & 0xF)])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
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
