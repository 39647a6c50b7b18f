/// Renders a ``Reply`` as aligned plain text for terminals.
public struct TextRenderer: Sendable {
    /// Longest cell shown before it is cut with `…` (query texts can be very long).
    public var maxCellWidth: Int

    public init(maxCellWidth: Int = 80) {
        self.maxCellWidth = maxCellWidth
    }

    public func render(_ reply: Reply) -> String {
        let reply = reply.redacted()
        var parts: [String] = []
        if let title = reply.title {
            let tag = reply.worstMark >= .warning ? reply.worstMark.tag + " " : ""
            parts.append(tag + title)
        }
        for block in reply.blocks {
            parts.append(render(block))
        }
        return parts.joined(separator: "\n\n")
    }

    func render(_ block: ReplyBlock) -> String {
        switch block {
        case .text(let s):
            return s
        case .note(let s, let mark):
            return mark == .none ? s : "\(mark.tag) \(s)"
        case .code(let s):
            return s.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        case .keyValues(let kvs):
            let width = kvs.map { $0.key.count }.max() ?? 0
            return kvs.map { kv in
                kv.key.padding(width) + "  " + kv.value + Self.flag(kv.mark)
            }.joined(separator: "\n")
        case .table(let table):
            return render(table)
        }
    }

    func render(_ table: ReplyTable) -> String {
        var lines: [String] = []
        if let title = table.title { lines.append(title) }
        if table.rows.isEmpty {
            lines.append(table.emptyText ?? "(none)")
            return lines.joined(separator: "\n")
        }
        let cells: [[String]] = table.rows.map { row in
            row.map { cell in (table.unclipped == true ? cell.text.replacingNewlines() : clip(cell.text)) + Self.flag(cell.mark) }
        }
        var widths = table.columns.map(\.count)
        for row in cells {
            for (i, c) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], c.count)
            }
        }
        func line(_ values: [String]) -> String {
            values.enumerated().map { i, v in
                guard i < widths.count else { return v }
                let right = i < table.numeric.count && table.numeric[i]
                return right ? v.leftPadding(widths[i]) : (i == values.count - 1 ? v : v.padding(widths[i]))
            }.joined(separator: "  ")
        }
        lines.append(line(table.columns))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines.append(contentsOf: cells.map(line))
        return lines.joined(separator: "\n")
    }

    func clip(_ s: String) -> String {
        // Leading spaces are indentation (the depth of a blocking tree); only the rest is collapsed.
        let indent = s.prefix { $0 == " " }
        let flat = String(indent) + s.dropFirst(indent.count).description.replacingNewlines()
        return flat.count > maxCellWidth ? String(flat.prefix(maxCellWidth - 1)) + "…" : flat
    }

    static func flag(_ mark: Mark) -> String {
        switch mark {
        case .warning: " !"
        case .critical: " !!"
        default: ""
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    func leftPadding(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    /// Newlines and tabs as single spaces, runs of spaces collapsed (query texts in tables).
    public func replacingNewlines() -> String {
        var out = ""
        var lastSpace = false
        for ch in self {
            if ch == "\n" || ch == "\r" || ch == "\t" || ch == " " {
                if !lastSpace { out.append(" ") }
                lastSpace = true
            } else {
                out.append(ch)
                lastSpace = false
            }
        }
        return out
    }
}
