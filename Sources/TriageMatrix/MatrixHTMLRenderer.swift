import Foundation
import TriageCore

/// Renders a ``Reply`` as Matrix `org.matrix.custom.html`: paragraphs, lists, `<table>` for
/// tables, `<pre><code>` for code. Every piece of text is escaped, so text that came from the
/// database (query texts, application names) can never become markup.
public struct MatrixHTMLRenderer: Sendable {
    public init() {}

    public func render(_ reply: Reply) -> String {
        let reply = reply.redacted()
        var parts: [String] = []
        if let title = reply.title {
            let mark = reply.worstMark >= .warning ? reply.worstMark.symbol + " " : ""
            parts.append("<p><strong>\(mark)\(title.htmlEscaped)</strong></p>")
        }
        for block in reply.blocks {
            parts.append(render(block))
        }
        return parts.joined(separator: "\n")
    }

    func render(_ block: ReplyBlock) -> String {
        switch block {
        case .text(let s):
            return "<p>\(Self.lines(s))</p>"
        case .note(let s, let mark):
            let symbol = mark == .none ? "" : mark.symbol + " "
            return mark == .critical ? "<p><strong>\(symbol)\(Self.lines(s))</strong></p>" : "<p>\(symbol)\(Self.lines(s))</p>"
        case .code(let s):
            return "<pre><code>\(s.htmlEscaped)</code></pre>"
        case .keyValues(let kvs):
            let items = kvs.map { kv in
                "<li><strong>\(kv.key.htmlEscaped)</strong>: \(Self.lines(kv.value))\(Self.flag(kv.mark))</li>"
            }
            return "<ul>" + items.joined() + "</ul>"
        case .table(let table):
            return render(table)
        }
    }

    func render(_ table: ReplyTable) -> String {
        var out = ""
        if let title = table.title { out += "<p><em>\(title.htmlEscaped)</em></p>" }
        guard !table.rows.isEmpty else {
            return out + "<p><em>\((table.emptyText ?? "(none)").htmlEscaped)</em></p>"
        }
        out += "<table><thead><tr>" + table.columns.map { "<th>\($0.htmlEscaped)</th>" }.joined() + "</tr></thead><tbody>"
        for row in table.rows {
            out += "<tr>" + row.map { "<td>\(Self.indented($0.text))\(Self.flag($0.mark))</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table>"
    }

    /// Escaped text with line breaks kept.
    static func lines(_ s: String) -> String {
        s.htmlEscaped.replacingOccurrences(of: "\n", with: "<br>")
    }

    /// A cell whose leading spaces (the depth of a blocking tree) survive HTML's whitespace collapsing.
    static func indented(_ s: String) -> String {
        let indent = s.prefix { $0 == " " }.count
        return String(repeating: "&nbsp;", count: indent) + lines(String(s.dropFirst(indent)))
    }

    static func flag(_ mark: Mark) -> String {
        mark >= .warning ? " " + mark.symbol : ""
    }
}
