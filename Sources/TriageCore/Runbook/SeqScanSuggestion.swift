/// Reads a text EXPLAIN plan for sequential scans with a filter and suggests the index that
/// could serve each: `/pg create-index TABLE COLUMN [COLUMN2] [COLUMN3]` for the columns the
/// filter compares (at most three, in the order they appear).
public enum SeqScanSuggestion {
    public struct Suggestion: Sendable, Equatable {
        public var table: String
        public var columns: [String]
        /// `/pg create-index items customer_id`
        public var command: String { "/pg create-index " + ([table] + columns).joined(separator: " ") }
    }

    public static func suggestions(in plan: [String]) -> [Suggestion] {
        var out: [Suggestion] = []
        var i = 0
        while i < plan.count {
            let line = plan[i]
            guard let range = line.range(of: "Seq Scan on ") else { i += 1; continue }
            let table = String(line[range.upperBound...].prefix { !$0.isWhitespace })
            // The scan's own detail lines are indented deeper than the node line.
            let depth = line.prefix { $0 == " " || $0 == "-" || $0 == ">" }.count
            var j = i + 1
            var columns: [String] = []
            while j < plan.count {
                let detail = plan[j]
                let d = detail.prefix { $0 == " " }.count
                if d <= depth || detail.contains("->") { break }
                let text = detail.trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("Filter: ") {
                    for c in compared(String(text.dropFirst("Filter: ".count))) where !columns.contains(c) { columns.append(c) }
                }
                j += 1
            }
            if !table.isEmpty, !columns.isEmpty, !out.contains(where: { $0.table == table }) {
                out.append(Suggestion(table: table, columns: Array(columns.prefix(3))))
            }
            i = j
        }
        return out
    }

    /// Column names on the left of a comparison in a filter: `((id = 7) AND (lower(email) = …))` → `id`.
    static func compared(_ filter: String) -> [String] {
        let operators = [" = ", " < ", " > ", " <= ", " >= ", " <> ", " ~~ ", " IS "]
        var names: [String] = []
        var rest = Substring(filter)
        while let next = operators.compactMap({ op in rest.range(of: op).map { (op, $0) } }).min(by: { $0.1.lowerBound < $1.1.lowerBound }) {
            let before = rest[..<next.1.lowerBound]
            // The identifier just before the operator, unless it is a function's result.
            let name = String(before.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }.reversed())
            let preceding = before.dropLast(name.count).last
            if let first = name.first, first.isLetter || first == "_", preceding != ")" {
                let column = String(name.split(separator: ".").last ?? Substring(name))
                if !names.contains(column) { names.append(column) }
            }
            rest = rest[next.1.upperBound...]
        }
        return names
    }
}
