import Foundation
import Testing
import TriageCore
@testable import TriageTelegram

/// Checks Telegram HTML the way the Bot API does: only allowed tags, balanced, and the
/// visible text (tags removed, entities decoded) no longer than the limit.
func visibleText(_ html: String) throws -> String {
    var out = ""
    var stack: [String] = []
    var i = html.startIndex
    while i < html.endIndex {
        let c = html[i]
        if c == "<" {
            guard let close = html[i...].firstIndex(of: ">") else { throw HTMLProblem(message: "unclosed tag") }
            let inner = html[html.index(after: i)..<close]
            if inner.hasPrefix("/") {
                guard stack.popLast() == String(inner.dropFirst()) else { throw HTMLProblem(message: "unbalanced \(inner)") }
            } else {
                guard ["b", "i", "pre", "code"].contains(String(inner)) else { throw HTMLProblem(message: "tag \(inner)") }
                stack.append(String(inner))
            }
            i = html.index(after: close)
        } else if c == "&" {
            let rest = html[i...]
            let entity = ["&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": "\""].first { rest.hasPrefix($0.key) }
            guard let entity else { throw HTMLProblem(message: "bare &") }
            out += entity.value
            i = html.index(i, offsetBy: entity.key.count)
        } else {
            if c == ">" { throw HTMLProblem(message: "bare >") }
            out.append(c)
            i = html.index(after: i)
        }
    }
    guard stack.isEmpty else { throw HTMLProblem(message: "unclosed \(stack)") }
    return out
}

struct HTMLProblem: Error { var message: String }

@Suite struct TelegramHTMLRendererTests {
    @Test func escapesEverythingAndUsesPreForTables() throws {
        let reply = Reply(title: "Slow <queries> & co", blocks: [
            .note("5 > 3 & \"quoted\"", .warning),
            .keyValues([KeyValue("pct <used>", "95%", mark: .critical)]),
            .table(ReplyTable(title: "top", columns: ["query", "ms"], numeric: [false, true],
                              rows: [["SELECT * FROM t WHERE a < 1 AND b > 2 </pre><b>", "12"]])),
            .code("x := '<script>'"),
        ])
        let parts = TelegramHTMLRenderer().render(reply)
        #expect(parts.count == 1)
        let html = parts[0]
        let text = try visibleText(html)
        #expect(html.hasPrefix("<b>"))
        #expect(html.contains("<pre>"))
        #expect(text.contains("Slow <queries> & co"))
        #expect(text.contains("SELECT * FROM t WHERE a < 1 AND b > 2 </pre><b>"))
        #expect(text.contains("x := '<script>'"))
        #expect(!html.contains("<script>"))
    }

    @Test func emptyTableShowsItsEmptyText() throws {
        let reply = Reply(blocks: [.table(ReplyTable(columns: ["a"], rows: [], emptyText: "no idle sessions"))])
        let html = TelegramHTMLRenderer().render(reply)[0]
        #expect(html == "<i>no idle sessions</i>")
    }

    @Test func longOutputIsSplitOnLinesWithPreClosedAndReopened() throws {
        let rows = (0..<400).map { i in [ReplyCell("row \(i) <&> " + String(repeating: "x", count: 20)), ReplyCell("\(i)")] }
        let reply = Reply(title: "big", blocks: [.text("before"), .table(ReplyTable(columns: ["name", "n"], rows: rows)), .text("after & done")])
        let renderer = TelegramHTMLRenderer(limit: 4096)
        let parts = renderer.render(reply)
        #expect(parts.count >= 3)
        var all = ""
        for part in parts {
            let text = try visibleText(part)          // each part valid on its own
            #expect(text.unicodeScalars.count <= 4096)
            all += text + "\n"
        }
        for i in [0, 199, 399] { #expect(all.contains("row \(i) <&> ")) }
        #expect(parts.dropFirst().first?.hasPrefix("<pre>") == true)
        #expect(parts.last?.hasSuffix("after &amp; done") == true)
    }

    @Test func aSingleHugeLineIsCutBetweenCharactersNeverInsideAnEntity() throws {
        let line = String(repeating: "<&>é🔥", count: 3000)
        let parts = TelegramHTMLRenderer(limit: 1000).render(Reply(blocks: [.code(line)]))
        #expect(parts.count > 1)
        var joined = ""
        for p in parts {
            let t = try visibleText(p)
            #expect(t.unicodeScalars.count <= 1000)
            joined += t
        }
        #expect(joined == line)
    }

    @Test func plainFallbackHasNoTags() {
        let parts = TelegramHTMLRenderer().renderPlain(Reply(title: "a<b", blocks: [.text("x & y")]))
        #expect(parts == ["a<b\n\nx & y"])
    }
}
