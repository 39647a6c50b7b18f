import Foundation
import TriageCore

/// Cuts a reply into messages that each fit in one Matrix event (65,536 bytes for the whole
/// event, so the content is kept under `limit`, 60,000 bytes by default). Cuts fall between
/// blocks, between table rows (the header is repeated), or between lines; never inside markup.
public struct MatrixReplySplitter: Sendable {
    /// Bytes of JSON content (body + formatted_body + the rest) per message.
    public var limit: Int
    let html = MatrixHTMLRenderer()
    let text = TextRenderer(maxCellWidth: 200)

    public init(limit: Int = 60_000) {
        self.limit = limit
    }

    /// The event content for `reply`: `m.notice` with a plain body and HTML.
    public func content(_ reply: Reply, replyTo: String? = nil) -> MatrixEventContent {
        MatrixEventContent(msgtype: "m.notice", body: text.render(reply), format: "org.matrix.custom.html",
                           formattedBody: html.render(reply), relatesTo: replyTo.map { MatrixRelation.reply(to: $0) })
    }

    /// The size of `reply` as event content, in bytes of JSON.
    public func size(_ reply: Reply) -> Int {
        // The reply relation adds about 100 bytes; counted in `margin`.
        (try? MatrixJSON.encode(content(reply))).map(\.count) ?? Int.max
    }

    /// Room for the relation and the "(part i of n)" label.
    let margin = 400

    /// The parts of `reply`, each small enough for one event.
    public func split(_ reply: Reply) -> [Reply] {
        let budget = limit - margin
        if size(reply) <= budget { return [reply] }
        var pieces: [ReplyBlock] = []
        for block in reply.blocks {
            pieces.append(contentsOf: fit(block, budget: budget))
        }
        var parts: [Reply] = []
        var current = Reply(title: reply.title, blocks: [], mark: reply.mark, summary: reply.summary)
        for piece in pieces {
            var candidate = current
            candidate.blocks.append(piece)
            if current.blocks.isEmpty || size(candidate) <= budget {
                current = candidate
            } else {
                parts.append(current)
                current = Reply(title: reply.title.map { "\($0) (continued)" }, blocks: [piece], mark: reply.mark, summary: reply.summary)
            }
        }
        parts.append(current)
        guard parts.count > 1 else { return parts }
        return parts.enumerated().map { i, part in
            var p = part
            let label = "(part \(i + 1) of \(parts.count))"
            p.title = reply.title.map { "\($0) \(label)" } ?? label
            return p
        }
    }

    /// `block` alone, or cut in halves until every piece fits.
    func fit(_ block: ReplyBlock, budget: Int) -> [ReplyBlock] {
        if size(Reply(blocks: [block])) <= budget { return [block] }
        guard let (a, b) = halves(block) else { return [block] }
        return fit(a, budget: budget) + fit(b, budget: budget)
    }

    func halves(_ block: ReplyBlock) -> (ReplyBlock, ReplyBlock)? {
        switch block {
        case .table(let t):
            if t.rows.count < 2 {
                // One enormous row: cut its cells' text.
                guard let row = t.rows.first, let longest = row.indices.max(by: { row[$0].text.utf8.count < row[$1].text.utf8.count }),
                      row[longest].text.count > 1 else { return nil }
                let (x, y) = Self.halve(row[longest].text)
                var r1 = row, r2 = row
                r1[longest].text = x
                r2[longest].text = y
                var t1 = t, t2 = t
                t1.rows = [r1]
                t2.rows = [r2]
                return (.table(t1), .table(t2))
            }
            let mid = t.rows.count / 2
            var t1 = t, t2 = t
            t1.rows = Array(t.rows[..<mid])
            t2.rows = Array(t.rows[mid...])
            t2.title = nil
            return (.table(t1), .table(t2))
        case .keyValues(let kvs):
            guard kvs.count > 1 else {
                guard let kv = kvs.first, kv.value.count > 1 else { return nil }
                let (x, y) = Self.halve(kv.value)
                return (.keyValues([KeyValue(kv.key, x, mark: kv.mark)]), .keyValues([KeyValue(kv.key, y, mark: kv.mark)]))
            }
            return (.keyValues(Array(kvs[..<(kvs.count / 2)])), .keyValues(Array(kvs[(kvs.count / 2)...])))
        case .text(let s):
            guard s.count > 1 else { return nil }
            let (x, y) = Self.halve(s)
            return (.text(x), .text(y))
        case .note(let s, let m):
            guard s.count > 1 else { return nil }
            let (x, y) = Self.halve(s)
            return (.note(x, m), .note(y, m))
        case .code(let s):
            guard s.count > 1 else { return nil }
            let (x, y) = Self.halve(s)
            return (.code(x), .code(y))
        }
    }

    /// Two halves of `s`, cut at the line break nearest the middle, or mid-line when it is one line.
    static func halve(_ s: String) -> (String, String) {
        let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.count > 1 {
            let mid = lines.count / 2
            return (lines[..<mid].joined(separator: "\n"), lines[mid...].joined(separator: "\n"))
        }
        let mid = s.index(s.startIndex, offsetBy: s.count / 2)
        return (String(s[..<mid]), String(s[mid...]))
    }
}
