import TriageCore

/// One step's rows from two databases, matched on the first column: each shown column next to
/// the other database's, and a `differs` column naming the columns whose values differ.
enum SideBySide {
    static func merge(_ step: RunbookStep, _ ours: QueryResult, _ theirs: QueryResult, against: String) -> (RunbookStep, QueryResult) {
        guard let key = ours.columns.first ?? theirs.columns.first else { return (step, ours) }
        let declared = step.columns.isEmpty ? ours.columns.map { ColumnSpec(name: $0) } : step.columns
        let compared = declared.filter { $0.name != key && !$0.hidden }
        var columns = [key]
        var specs = [declared.first { $0.name == key } ?? ColumnSpec(name: key)]
        for c in compared {
            columns += [c.name, c.name + "@" + against]
            var theirsSpec = c
            theirsSpec.name = c.name + "@" + against
            theirsSpec.title = c.title + " [\(against)]"
            specs += [c, theirsSpec]
        }
        columns.append("differs")
        specs.append(ColumnSpec(name: "differs", title: "differs"))
        func index(_ result: QueryResult) -> [String: [String?]] {
            var rows: [String: [String?]] = [:]
            guard let k = result.columns.firstIndex(of: key) else { return rows }
            for row in result.rows { rows[row[k] ?? ""] = row }
            return rows
        }
        let mine = index(ours), other = index(theirs)
        var keys: [String] = []
        for row in ours.rows + theirs.rows {
            let k = (ours.columns.firstIndex(of: key).map { row[$0] } ?? nil) ?? ""
            if !keys.contains(k) { keys.append(k) }
        }
        func value(_ rows: [String: [String?]], _ result: QueryResult, _ k: String, _ column: String) -> String? {
            guard let row = rows[k], let i = result.columns.firstIndex(of: column) else { return nil }
            return row[i]
        }
        let rows: [[String?]] = keys.sorted().map { k in
            var row: [String?] = [k]
            var different: [String] = []
            if mine[k] == nil { different.append("only in \(against)") }
            if other[k] == nil { different.append("missing in \(against)") }
            for c in compared {
                let a = value(mine, ours, k, c.name), b = value(other, theirs, k, c.name)
                row += [a, b]
                // Sizes differ after any restore (no bloat); rows and timestamps are what matter.
                if mine[k] != nil && other[k] != nil && a != b && c.unit != .bytes { different.append(c.title) }
            }
            row.append(different.joined(separator: ", "))
            return row
        }
        var merged = step
        merged.columns = specs
        merged.title = (step.title ?? "") + " (this database vs \(against))"
        return (merged, QueryResult(columns: columns, rows: rows))
    }
}
