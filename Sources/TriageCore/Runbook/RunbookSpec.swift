/// What a runbook command runs, as declared in `commands/*.yaml`.
public struct RunbookSpec: Sendable {
    /// Read-only queries whose results make the reply (for an action: the preview).
    public var steps: [RunbookStep]
    /// For actions: what runs after confirmation.
    public var action: RunbookAction?

    public init(steps: [RunbookStep], action: RunbookAction? = nil) {
        self.steps = steps
        self.action = action
    }
}

/// One query and how to show its rows.
public struct RunbookStep: Sendable {
    public enum Display: String, Sendable {
        case table
        /// The first row as `column: value` lines.
        case keyValues = "keyvalues"
        /// The first column of each row as text.
        case text
    }

    public var title: String?
    public var sql: String
    /// Argument names bound to `$1`, `$2`, … in order.
    public var parameters: [String]
    public var display: Display
    public var columns: [ColumnSpec]
    /// Shown when the query returns no rows; `{arg}` is replaced by argument values.
    public var emptyText: String?
    /// One-line summary for the timeline; `{column}` from the first row, `{rows}` the count.
    public var summary: String?
    /// A PostgreSQL extension the query needs, and what to say when it is missing.
    public var requiresExtension: String?
    public var missingExtensionHint: String?

    public init(title: String? = nil, sql: String, parameters: [String] = [], display: Display = .table,
                columns: [ColumnSpec] = [], emptyText: String? = nil, summary: String? = nil,
                requiresExtension: String? = nil, missingExtensionHint: String? = nil) {
        self.title = title
        self.sql = sql
        self.parameters = parameters
        self.display = display
        self.columns = columns
        self.emptyText = emptyText
        self.summary = summary
        self.requiresExtension = requiresExtension
        self.missingExtensionHint = missingExtensionHint
    }
}

/// How one result column is shown: title, unit, thresholds.
public struct ColumnSpec: Sendable, Equatable {
    public enum Unit: String, Sendable {
        case none, number, bytes, percent, seconds, milliseconds, duration
    }

    public var name: String
    public var title: String
    public var unit: Unit
    /// Flag values at or above (or, with `lowerIsWorse`, at or below) these.
    public var warn: Double?
    public var critical: Double?
    public var lowerIsWorse: Bool
    /// Hidden columns are available to summaries but not shown.
    public var hidden: Bool

    public init(name: String, title: String? = nil, unit: Unit = .none, warn: Double? = nil,
                critical: Double? = nil, lowerIsWorse: Bool = false, hidden: Bool = false) {
        self.name = name
        self.title = title ?? name
        self.unit = unit
        self.warn = warn
        self.critical = critical
        self.lowerIsWorse = lowerIsWorse
        self.hidden = hidden
    }

    /// The mark a raw value earns against the thresholds.
    public func mark(for raw: String?) -> Mark {
        guard let raw, let v = Double(raw) else { return .none }
        func beyond(_ t: Double) -> Bool { lowerIsWorse ? v <= t : v >= t }
        if let c = critical, beyond(c) { return .critical }
        if let w = warn, beyond(w) { return .warning }
        return .none
    }

    public var isNumeric: Bool { unit != .none }
}

/// What an action runs once confirmed.
public struct RunbookAction: Sendable {
    /// Statements run in order, parameters by argument name, identifiers by argument name.
    public var statements: [RunbookStatement]
    /// Run outside a transaction (VACUUM, REINDEX CONCURRENTLY).
    public var autocommit: Bool
    /// Lock level taken, shown in the preview ("SHARE UPDATE EXCLUSIVE").
    public var lockLevel: String?

    public init(statements: [RunbookStatement], autocommit: Bool = false, lockLevel: String? = nil) {
        self.statements = statements
        self.autocommit = autocommit
        self.lockLevel = lockLevel
    }
}

/// One statement of an action.
public struct RunbookStatement: Sendable {
    public var sql: String
    public var parameters: [String]
    /// Argument names substituted for `{{ident:NAME}}`, quoted by libpq.
    public var identifiers: [String]
    /// Only run when this boolean argument is set (`full` for VACUUM FULL).
    public var when: String?

    public init(sql: String, parameters: [String] = [], identifiers: [String] = [], when: String? = nil) {
        self.sql = sql
        self.parameters = parameters
        self.identifiers = identifiers
        self.when = when
    }
}
