import Foundation
import Testing
import TriageCore
@testable import TriageMatrix

@Suite struct MatrixRenderingTests {
    @Test func databaseTextIsEscapedEverywhere() {
        let evil = "<script>alert(1)</script> & \"x\""
        let reply = Reply(title: "t <i>", blocks: [
            .text(evil), .note(evil, .critical), .code(evil),
            .keyValues([KeyValue("k<", evil, mark: .warning)]),
            .table(ReplyTable(title: "<t>", columns: ["<c>"], rows: [[ReplyCell(evil)]])),
        ])
        let html = MatrixHTMLRenderer().render(reply)
        #expect(!html.contains("<script>") && !html.contains("<i>") && !html.contains("<c>") && !html.contains("<t>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"))
        #expect(html.contains("<table><thead><tr><th>&lt;c&gt;</th></tr></thead><tbody><tr><td>"))
        #expect(html.contains("<pre><code>&lt;script&gt;"))
    }

    @Test func contentIsANoticeWithHTMLAndReplyRelation() throws {
        let c = MatrixReplySplitter().content(Reply.text("pong\nline 2"), replyTo: "$cmd")
        #expect(c.msgtype == "m.notice")
        #expect(c.body == "pong\nline 2")
        #expect(c.format == "org.matrix.custom.html")
        #expect(c.formattedBody == "<p>pong<br>line 2</p>")
        #expect(c.relatesTo?.inReplyTo?.eventID == "$cmd")
        // On the wire: the spec's keys, and nothing absent written as null.
        let wire = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(c)) as? [String: Any])
        #expect(Set(wire.keys) == ["msgtype", "body", "format", "formatted_body", "m.relates_to"])
        let rel = wire["m.relates_to"] as? [String: [String: String]]
        #expect(rel?["m.in_reply_to"]?["event_id"] == "$cmd")
    }

    @Test func smallRepliesAreOneMessage() {
        #expect(MatrixReplySplitter().split(Reply.text("pong")).count == 1)
    }

    @Test func largeTablesAreSplitUnderTheEventLimit() throws {
        let rows = (0..<3000).map { i in [ReplyCell("\(i)"), ReplyCell(String(repeating: "select * from t where x = '<&>' ", count: 2))] }
        let reply = Reply(title: "Big", blocks: [.text("intro"), .table(ReplyTable(columns: ["n", "query"], rows: rows))])
        let splitter = MatrixReplySplitter()
        let parts = splitter.split(reply)
        #expect(parts.count > 3)
        for (i, part) in parts.enumerated() {
            let data = try JSONEncoder().encode(splitter.content(part, replyTo: "$some-event-id-of-typical-length-xxxxxxxxxxxx"))
            #expect(data.count < 60_000)
            #expect(part.title == "Big (part \(i + 1) of \(parts.count))")
            #expect(MatrixHTMLRenderer().render(part).contains("<thead><tr><th>n</th><th>query</th></tr></thead>"))
        }
        // Every row arrives exactly once, in order.
        let numbers = parts.flatMap { $0.blocks }.flatMap { b -> [String] in
            if case .table(let t) = b { return t.rows.map { $0[0].text } }
            return []
        }
        #expect(numbers == (0..<3000).map(String.init))
    }

    @Test func oneHugeLineIsCutToo() {
        let reply = Reply(blocks: [.code(String(repeating: "x", count: 200_000))])
        let parts = MatrixReplySplitter().split(reply)
        #expect(parts.count >= 4)
        #expect(parts.allSatisfy { MatrixReplySplitter().size($0) < 60_000 })
        let total = parts.flatMap(\.blocks).reduce(0) { n, b in if case .code(let s) = b { return n + s.count }; return n }
        #expect(total == 200_000)
    }

    @Test func transactionIDsAreStablePerCommandAndPart() {
        let a = MatrixTransactionID.make(key: "matrix:!r:hs:$e1", part: 0)
        #expect(a == MatrixTransactionID.make(key: "matrix:!r:hs:$e1", part: 0))
        #expect(a != MatrixTransactionID.make(key: "matrix:!r:hs:$e1", part: 1))
        #expect(a != MatrixTransactionID.make(key: "matrix:!r:hs:$e2", part: 0))
        #expect(a.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" })
    }

    @Test func matrixErrorsReadRetryAfter() {
        let body = Data(#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":1500}"#.utf8)
        let e = MatrixError(response: 429, headers: [:], body: body, operation: "send")
        #expect(e.isRateLimited && e.retryAfter == 1.5)
        let h = MatrixError(response: 429, headers: ["retry-after": "3"], body: Data("{}".utf8), operation: "send")
        #expect(h.retryAfter == 3)
        let t = MatrixError(response: 401, headers: [:], body: Data(#"{"errcode":"M_UNKNOWN_TOKEN","error":"x"}"#.utf8), operation: "sync")
        #expect(t.isUnknownToken && !t.isRateLimited)
    }
}
