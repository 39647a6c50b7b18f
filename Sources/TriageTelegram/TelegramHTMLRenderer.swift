import TriageCore

/// Renders a ``Reply`` as Telegram HTML (`parse_mode=HTML`) in parts of at most `limit`
/// UTF-16 code units of visible text — Telegram's own measure after entity parsing (an emoji
/// outside the Basic Multilingual Plane is two units, `&lt;` is one, tags are none).
///
/// Only tags Telegram allows are produced (`b`, `i`, `pre`); every string — titles, cells,
/// anything that came from the database — is escaped. Tables and code go in `<pre>`. Parts
/// are cut on line boundaries (a line longer than a part is cut between characters), never
/// inside a tag or an entity, and each part is valid on its own: a `<pre>` cut in two is
/// closed at the end of one part and opened again at the start of the next.
public struct TelegramHTMLRenderer: Sendable {
    /// Telegram's limit: 4096 UTF-16 code units after entity parsing.
    public var limit: Int
    /// Longest table cell before it is cut with `…`.
    public var maxCellWidth: Int

    public init(limit: Int = 4096, maxCellWidth: Int = 60) {
        self.limit = limit
        self.maxCellWidth = maxCellWidth
    }

    /// The reply as one or more HTML messages, redacted (``Reply/redacted()``).
    public func render(_ reply: Reply) -> [String] {
        parts(reply).map(\.text)
    }

    /// The reply as plain text parts (the fallback when Telegram rejects the HTML).
    public func renderPlain(_ reply: Reply) -> [String] {
        parts(reply, plain: true).map(\.text)
    }

    /// One message of a reply, with the lines it was made of so it can be cut again smaller.
    public struct Part: Sendable {
        public var text: String
        var lines: [Line]
        var escape: Bool
        /// Visible UTF-16 units (what Telegram counts).
        public var length: Int

        /// What is sent for a reply that renders to nothing.
        static let placeholder = Part(text: "(no output)", lines: [Line(spans: [Span("(no output)", .plain)], preBlock: nil)],
                                      escape: true, length: 11)
    }

    /// The reply in parts of at most `limit` units (HTML, or plain text with `plain`).
    public func parts(_ reply: Reply, plain: Bool = false) -> [Part] {
        let reply = reply.redacted()
        if plain {
            let text = TextRenderer(maxCellWidth: maxCellWidth).render(reply)
            return pack(text.split(separator: "\n", omittingEmptySubsequences: false).map {
                Line(spans: [Span(String($0), .plain)], preBlock: nil)
            }, escape: false, limit: limit)
        }
        return pack(lines(for: reply), escape: true, limit: limit)
    }

    /// `part` cut again into pieces of at most half its length (for a part Telegram refused as
    /// too long although it fit by our count); nil when it cannot get smaller.
    public func resplit(_ part: Part) -> [Part]? {
        let smaller = max(16, part.length / 2)
        guard smaller < part.length else { return nil }
        let pieces = pack(part.lines, escape: part.escape, limit: smaller)
        return pieces.count > 1 ? pieces : nil
    }

    /// `part` without markup: the same text Telegram would show, as plain text (the fallback
    /// for a part whose HTML Telegram refused). It has the same length, so it fits too.
    public func plain(_ part: Part) -> Part {
        Part(text: emit(part.lines, escape: false), lines: part.lines, escape: false, length: part.length)
    }

    // MARK: Lines

    enum Style { case plain, bold, italic }

    struct Span: Sendable {
        var text: String
        var style: Style
        init(_ text: String, _ style: Style) {
            self.text = text
            self.style = style
        }
    }

    /// One line of output: spans outside `<pre>`, or raw text of `<pre>` block `preBlock`.
    struct Line: Sendable {
        var spans: [Span]
        var preBlock: Int?
        var length: Int { spans.reduce(0) { $0 + $1.text.utf16.count } }
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

    func pack(_ input: [Line], escape: Bool, limit: Int) -> [Part] {
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
                        let c = rest[take].utf16.count
                        if used + n + c > room { break }
                        n += c
                        take = rest.index(after: take)
                    }
                    if take == rest.startIndex && used == 0 { take = rest.index(after: take) }  // one huge character
                    if take > rest.startIndex {
                        piece.append(Span(String(rest[..<take]), span.style))
                        used += rest[..<take].utf16.count
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
        return parts.compactMap { group in
            let text = emit(group, escape: escape)
            guard !text.isEmpty else { return nil }
            let length = group.reduce(0) { $0 + $1.length } + max(0, group.count - 1)
            return Part(text: text, lines: group, escape: escape, length: length)
        }
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
