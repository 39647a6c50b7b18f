/// The query that counts rows violating one foreign key (MATCH SIMPLE: rows whose key
/// columns are all set but have no parent row). Names come from the catalog and reach the
/// SQL only as `{{ident:…}}` placeholders, quoted by libpq.
public struct OrphanQuery: Sendable, Equatable {
    public var childSchema: String
    public var childTable: String
    public var childColumns: [String]
    public var parentSchema: String
    public var parentTable: String
    public var parentColumns: [String]

    public init(childSchema: String, childTable: String, childColumns: [String],
                parentSchema: String, parentTable: String, parentColumns: [String]) {
        self.childSchema = childSchema
        self.childTable = childTable
        self.childColumns = childColumns
        self.parentSchema = parentSchema
        self.parentTable = parentTable
        self.parentColumns = parentColumns
    }

    /// The statement: `$1` caps how many orphans are counted (so a huge table answers quickly).
    public func statement(cap: Int) -> SQLStatement {
        var idents = ["cs": childSchema, "ct": childTable, "ps": parentSchema, "pt": parentTable]
        var notNull: [String] = []
        var join: [String] = []
        for (i, (c, p)) in zip(childColumns, parentColumns).enumerated() {
            idents["c\(i)"] = c
            idents["p\(i)"] = p
            notNull.append("c.{{ident:c\(i)}} IS NOT NULL")
            join.append("p.{{ident:p\(i)}} = c.{{ident:c\(i)}}")
        }
        let sql = """
            SELECT count(*) AS orphans FROM (
              SELECT 1 FROM {{ident:cs}}.{{ident:ct}} c
              WHERE \(notNull.joined(separator: " AND "))
                AND NOT EXISTS (SELECT 1 FROM {{ident:ps}}.{{ident:pt}} p WHERE \(join.joined(separator: " AND ")))
              LIMIT $1) o
            """
        return SQLStatement(sql, parameters: [String(cap)], identifiers: idents)
    }
}

/// The query that finds duplicate values of a key that should be unique.
public struct DuplicateKeyQuery: Sendable, Equatable {
    public var schema: String
    public var table: String
    public var columns: [String]

    public init(schema: String, table: String, columns: [String]) {
        self.schema = schema
        self.table = table
        self.columns = columns
    }

    /// Returns `groups` (distinct duplicated keys) and `extra_rows` (rows beyond the first of each).
    public func statement() -> SQLStatement {
        var idents = ["s": schema, "t": table]
        var cols: [String] = []
        for (i, c) in columns.enumerated() {
            idents["k\(i)"] = c
            cols.append("{{ident:k\(i)}}")
        }
        let sql = """
            SELECT count(*) AS groups, coalesce(sum(n - 1), 0) AS extra_rows FROM (
              SELECT count(*) AS n FROM {{ident:s}}.{{ident:t}}
              WHERE \(cols.map { "\($0) IS NOT NULL" }.joined(separator: " AND "))
              GROUP BY \(cols.joined(separator: ", ")) HAVING count(*) > 1) d
            """
        return SQLStatement(sql, identifiers: idents)
    }
}
