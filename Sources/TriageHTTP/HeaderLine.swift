/// One `Name: value` response header line, read from its bytes.
struct HeaderLine: Equatable {
    var name: String
    var value: String

    static let statusPrefix: [UInt8] = Array("HTTP/".utf8)
}

extension HeaderLine {
    /// Nil for a status line, the blank line ending the headers, or a line without a colon.
    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.starts(with: Self.statusPrefix), let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
        var start = colon + 1, end = bytes.count
        while start < end, blank(bytes[start]) { start += 1 }
        while end > start, blank(bytes[end - 1]) { end -= 1 }
        let lowered = bytes[..<colon].map { b -> UInt8 in (0x41...0x5A).contains(b) ? b | 0x20 : b }
        name = String(decoding: lowered, as: UTF8.self)
        value = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// For tests: the header read from a line's text.
    init?(text: String) {
        var copy = Array(text.utf8)
        guard let parsed = copy.withUnsafeMutableBufferPointer({ HeaderLine(UnsafeBufferPointer($0)) }) else { return nil }
        self = parsed
    }
}
