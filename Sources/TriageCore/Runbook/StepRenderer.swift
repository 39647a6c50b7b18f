/// Turns the rows of a runbook step into a reply block, with units and threshold marks.
public struct StepRenderer: Sendable {
    public init() {}

    /// The blocks for `result`, and a one-line summary.
    public func render(_ step: RunbookStep, result: QueryResult, arguments: BoundArguments) -> ([ReplyBlock], String?) {
        let summary = step.summary.map { fill($0, result: result, arguments: arguments, columns: step.columns) }
        if result.rows.isEmpty {
            // `empty: ""`: a step that only matters when it has rows (a refusal) shows nothing.
            if step.emptyText == "" || (step.display == .warning && step.emptyText == nil) { return ([], nil) }
            let empty = step.emptyText.map { fill($0, result: result, arguments: arguments) } ?? "(none)"
            // A summary naming first-row columns has nothing to name: the empty text says it.
            let said = summary.flatMap { $0.contains("{") ? nil : $0 } ?? empty
            if step.display == .table {
                return ([.table(ReplyTable(title: step.title, columns: [], rows: [], emptyText: empty))], said)
            }
            return ([.text(titled(step.title, empty))], said)
        }
        let specs = columnSpecs(step, result: result)
        switch step.display {
        case .keyValues:
            let kvs = specs.filter { !$0.spec.hidden }.map { c in
                let raw = result.rows[0][c.index]
                return KeyValue(c.spec.title, ValueFormatter.format(raw, unit: c.spec.unit), mark: c.spec.mark(for: raw))
            }
            return ((step.title.map { [.text($0)] } ?? []) + [.keyValues(kvs)], summary)
        case .warning:
            let notes = result.rows.compactMap { $0.first ?? nil }.filter { !$0.isEmpty }
            return (notes.map { .note($0, .warning) }, summary)
        case .text:
            let lines = result.rows.map { $0.first.flatMap { $0 } ?? "" }.joined(separator: "\n")
            return ([.text(titled(step.title, lines))], summary)
        case .table:
            let shown = specs.filter { !$0.spec.hidden }
            let rows = result.rows.map { row in
                shown.map { c in
                    ReplyCell(ValueFormatter.format(row[c.index], unit: c.spec.unit), mark: c.spec.mark(for: row[c.index]))
                }
            }
            let table = ReplyTable(title: step.title, columns: shown.map(\.spec.title),
                                   numeric: shown.map(\.spec.isNumeric), rows: rows)
            return ([.table(table)], summary ?? "\(result.rows.count) row\(result.rows.count == 1 ? "" : "s")")
        }
    }

    func titled(_ title: String?, _ text: String) -> String {
        guard let title else { return text }
        return "\(title)\n\(text)"
    }

    /// The declared columns present in the result (or every result column when none declared).
    func columnSpecs(_ step: RunbookStep, result: QueryResult) -> [(index: Int, spec: ColumnSpec)] {
        if step.columns.isEmpty {
            return result.columns.enumerated().map { ($0.offset, ColumnSpec(name: $0.element)) }
        }
        return step.columns.compactMap { spec in
            result.columns.firstIndex(of: spec.name).map { ($0, spec) }
        }
    }

    /// Replaces `{name}` with an argument value or a column of the first row (bytes, durations,
    /// booleans and timestamps formatted by the unit `columns` declares: `12.0 MB`, not `12582912`), `{rows}` with the row count.
    public func fill(_ template: String, result: QueryResult, arguments: BoundArguments, columns: [ColumnSpec] = []) -> String {
        var out = ""
        var i = template.startIndex
        while i < template.endIndex {
            let ch = template[i]
            if ch == "{", let close = template[i...].firstIndex(of: "}") {
                let key = String(template[template.index(after: i)..<close])
                if key == "rows" {
                    out += String(result.rows.count)
                } else if let arg = arguments[key] {
                    out += arg.description
                } else if let v = result.value(key) {
                    // Numbers and percentages stay as they are (templates write "{pct}%").
                    let unit = columns.first { $0.name == key }?.unit ?? .none
                    out += [.none, .number, .percent].contains(unit) ? v : ValueFormatter.format(v, unit: unit)
                } else {
                    out += "{\(key)}"
                }
                i = template.index(after: close)
            } else {
                out.append(ch)
                i = template.index(after: i)
            }
        }
        return out
    }
}
