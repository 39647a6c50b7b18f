import Testing
@testable import TriageHTTP

/// Response header lines read at the byte level, as libcurl hands them over.
@Suite struct HeaderLineTests {
    @Test func aHeaderIsLoweredAndTrimmed() {
        #expect(HeaderLine(text: "Retry-After:  7 \r\n") == HeaderLine(name: "retry-after", value: "7"))
        #expect(HeaderLine(text: "X-Empty:\r\n") == HeaderLine(name: "x-empty", value: ""))
        #expect(HeaderLine(text: "Location: http://h/a:b\r\n")?.value == "http://h/a:b")   // the first colon splits
    }

    @Test func statusAndBlankLinesAreNoHeaders() {
        #expect(HeaderLine(text: "HTTP/1.1 429 Too Many Requests\r\n") == nil)
        #expect(HeaderLine(text: "\r\n") == nil)
        #expect(HeaderLine(text: "garbage without colon") == nil)
    }

    @Test func hostileBytesDoNotTrap() {
        // Invalid UTF-8 and a lone colon: decoded with replacement characters, never a trap.
        #expect(HeaderLine(text: ":") == HeaderLine(name: "", value: ""))
        var bytes: [UInt8] = [0xFF, 0xFE, 0x3A, 0x20, 0xC3]
        let parsed = bytes.withUnsafeMutableBufferPointer { HeaderLine(UnsafeBufferPointer($0)) }
        #expect(parsed?.value == "\u{FFFD}")
    }
}
