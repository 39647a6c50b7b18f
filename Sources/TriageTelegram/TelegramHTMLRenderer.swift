import TriageCore

/// Renders a ``Reply`` as Telegram HTML (`parse_mode=HTML`) in parts of at most `limit`
/// characters of visible text.
///
/// Only tags Telegram allows are produced (`b`, `i`, `pre`); every string — titles, cells,
/// anything that came from the database — is escaped. Tables and code go in `<pre>`. Parts
/// are cut on line boundaries (a line longer than a part is cut between characters), never
/// inside a tag or an entity, and each part is valid on its own: a `<pre>` cut in two is
/// closed at the end of one part and opened again at the start of the next.
public struct TelegramHTMLRenderer: Sendable {
    /// Telegram's limit: 4096 characters after entity parsing.
    public var limit: Int
    /// Longest table cell before it is cut with `…`.
    public var maxCellWidth: Int

    public init(limit: Int = 4096, maxCellWidth: Int = 60) {
        self.limit = limit
        self.maxCellWidth = maxCellWidth
    }

    /// The reply as one or more HTML messages, redacted (``Reply/redacted()``).
    public func render(_ reply: Reply) -> [String] {
        split(lines(for: reply.redacted()))
    }

    /// The reply as plain text parts (the fallback when Telegram rejects the HTML).
    public func renderPlain(_ reply: Reply) -> [String] {
        let text = TextRenderer(maxCellWidth: maxCellWidth).render(reply)
        return split(text.split(separator: "\n", omittingEmptySubsequences: false).map {
            Line(spans: [Span(String($0), .plain)], preBlock: nil)
        }, escape: false)
    }

    // MARK: Lines

    enum Style { case plain, bold, italic }

    struct Span {
        var text: String
        var style: Style
        init(_ text: String, _ style: Style) {
            self.text = text
            self.style = style
        }
    }

    /// One line of output: spans outside `<pre>`, or raw text of `<pre>` block `preBlock`.
    struct Line {
        var spans: [Span]
        var preBlock: Int?
        var length: Int { spans.reduce(0) { $0 + $1.text.unicodeScalars.count } }
    }

    func lines(for reply: Reply) -> [Line] {
        var out: [Line] = []
        var preCount = 0
        func blank() { if !out.isEmpty { out.append(Line(spans: [], preBlock: nil)) } }
        func text(_ s: String, _ style: Style = .plain, prefix: String = "") {
            for (i, l) in s.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                out.append(Line(spans: [Span((i == 0 ? prefix : "") + String(l), style)], preBlock: nil))
            }
        }
        func pre(_ s: String) {
            preCount += 1
            for l in s.split(separator: "\n", omittingEmptySubsequences: false) {
                out.append(Line(spans: [Span(String(l), .plain)], preBlock: preCount))
            }
        }
        if let title = reply.title {
            let mark = reply.worstMark >= .warning ? reply.worstMark.symbol + " " : ""
            text(mark + title, .bold)
        }
        for block in reply.blocks {
            blank()
            switch block {
            case .text(let s):
                text(s)
            case .note(let s, let mark):
                text(s, .plain, prefix: mark == .none ? "" : mark.symbol + " ")
            case .code(let s):
                pre(s)
            case .keyValues(let kvs):
                for kv in kvs {
                    let flag = kv.mark >= .warning ? " " + kv.mark.symbol : ""
                    out.append(Line(spans: [Span(kv.key + ": ", .plain), Span(kv.value.replacingNewlines() + flag, .bold)], preBlock: nil))
                }
            case .table(let table):
                if let title = table.title { text(title, .bold) }
                if table.rows.isEmpty {
                    text(table.emptyText ?? "(none)", .italic)
                } else {
                    var body = table
                    body.title = nil
                    pre(TextRenderer(maxCellWidth: maxCellWidth).render(Reply(blocks: [.table(body)])))
                }
            }
        }
        return out
    }

    // MARK: Splitting

    func split(_ input: [Line], escape: Bool = true) -> [String] {
        // Cut lines longer than a part into pieces first.
        var lines: [Line] = []
        let room = max(16, limit - 1)
        for line in input {
            if line.length <= room { lines.append(line); continue }
            var piece: [Span] = []
            var used = 0
            for span in line.spans {
                var rest = Substring(span.text)
                while !rest.isEmpty {
                    var take = rest.startIndex
                    var n = 0
                    while take < rest.endIndex {
                        let c = rest[take].unicodeScalars.count
                        if used + n + c > room { break }
                        n += c
                        take = rest.index(after: take)
                    }
                    if take == rest.startIndex && used == 0 { take = rest.index(after: take) }  // one huge character
                    if take > rest.startIndex {
                        piece.append(Span(String(rest[..<take]), span.style))
                        used += rest[..<take].unicodeScalars.count
                        rest = rest[take...]
                    }
                    if !rest.isEmpty {
                        lines.append(Line(spans: piece, preBlock: line.preBlock))
                        piece = []
                        used = 0
                    }
                }
            }
            if !piece.isEmpty { lines.append(Line(spans: piece, preBlock: line.preBlock)) }
        }
        // Pack whole lines into parts.
        var parts: [[Line]] = []
        var current: [Line] = []
        var size = 0
        for line in lines {
            let added = (current.isEmpty ? 0 : 1) + line.length
            if !current.isEmpty && size + added > limit {
                parts.append(current)
                current = []
                size = 0
            }
            if current.isEmpty && line.spans.isEmpty && line.preBlock == nil { continue }  // no leading blank line
            size += (current.isEmpty ? 0 : 1) + line.length
            current.append(line)
        }
        if !current.isEmpty { parts.append(current) }
        return parts.map { emit($0, escape: escape) }.filter { !$0.isEmpty }
    }

    func emit(_ part: [Line], escape: Bool) -> String {
        var lines = part
        while let last = lines.last, last.spans.isEmpty, last.preBlock == nil { lines.removeLast() }
        func esc(_ s: String) -> String { escape ? s.htmlEscaped : s }
        var out = ""
        var open: Int?
        for (i, line) in lines.enumerated() {
            if escape, line.preBlock != open {
                if open != nil { out += "</pre>" }
                if i > 0 { out += "\n" }
                if line.preBlock != nil { out += "<pre>" }
                open = line.preBlock
            } else if i > 0 {
                out += "\n"
            }
            for span in line.spans where !span.text.isEmpty {
                guard escape else { out += span.text; continue }
                switch span.style {
                case .plain: out += esc(span.text)
                case .bold: out += "<b>" + esc(span.text) + "</b>"
                case .italic: out += "<i>" + esc(span.text) + "</i>"
                }
            }
        }
        if open != nil { out += "</pre>" }
        return out
    }
}
