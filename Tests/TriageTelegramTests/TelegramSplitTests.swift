import Foundation
import Testing
import TriageCore
@testable import TriageTelegram

/// Parts are measured as Telegram measures them: UTF-16 code units of the text after HTML
/// entity parsing.
@Suite struct TelegramSplitTests {
    /// The visible text of Telegram HTML (tags dropped, the four entities Triage writes decoded).
    static func visible(_ html: String) -> String {
        var out = ""
        var inTag = false
        for ch in html {
            if ch == "<" { inTag = true; continue }
            if ch == ">" && inTag { inTag = false; continue }
            if !inTag { out.append(ch) }
        }
        return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func emojiHeavyRepliesFitInUTF16Units() {
        let title = String(repeating: "🔥", count: 3990)             // 7,980 UTF-16 units
        let reply = Reply(title: "Incident #1 opened", blocks: [
            .keyValues([KeyValue("title", title), KeyValue("severity", "sev2")]),
            .text(String(repeating: "👩‍👩‍👧 <b>&", count: 700)),
            .code(String(repeating: "🔥🔥🔥🔥 table row\n", count: 300)),
        ])
        let parts = TelegramHTMLRenderer().render(reply)
        #expect(parts.count >= 3)
        for part in parts {
            #expect(Self.visible(part).utf16.count <= 4096, "a part of \(Self.visible(part).utf16.count) units")
        }
        let all = parts.map(Self.visible).joined()
        #expect(all.filter { $0 == "🔥" }.count == 3990 + 1200, "nothing is lost")
        #expect(all.contains("sev2"))
    }

    @Test func aPartCutAgainIsSmallerAndKeepsEverything() throws {
        let renderer = TelegramHTMLRenderer()
        let reply = Reply(blocks: [.text(String(repeating: "line with ünï & <x> 🔥\n", count: 150))])
        let parts = renderer.parts(reply)
        #expect(parts.count == 1)
        let part = try #require(parts.first)
        let pieces = try #require(renderer.resplit(part))
        #expect(pieces.count >= 2)
        #expect(pieces.allSatisfy { Self.visible($0.text).utf16.count <= part.length / 2 })
        #expect(pieces.map { Self.visible($0.text) }.joined(separator: "\n") == Self.visible(part.text))
        // Down to the smallest size, then no further.
        var smallest = pieces[0]
        while let again = renderer.resplit(smallest) { smallest = again[0] }
        #expect(smallest.length <= 32)
    }

    @Test func plainFallbackIsMeasuredTheSameWay() {
        let reply = Reply(blocks: [.text(String(repeating: "🔥", count: 5000))])
        let parts = TelegramHTMLRenderer().renderPlain(reply)
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { $0.utf16.count <= 4096 })
        #expect(parts.joined().count == 5000)
    }
}
