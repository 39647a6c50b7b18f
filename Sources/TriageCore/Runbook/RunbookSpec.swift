/// What a runbook command runs, as declared in `commands/*.yaml`.
public struct RunbookSpec: Sendable, Codable {
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
public struct RunbookStep: Sendable, Codable {
    public enum Display: String, Sendable, Codable {
        case table
        /// The first row as `column: value` lines.
        case keyValues = "keyvalues"
        /// The first column of each row as text.
        case text
        /// The first column of each row as a warning (nothing when there are no rows): what the
        /// reader must not miss, such as superuser sessions in a kill list.
        case warning
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
    /// For an action's preview: result columns whose values are kept with the confirmation
    /// token and handed to the action's statements as `captured.NAME`.
    public var capture: [String]
    /// The query returns SQL text (first column of the first row) built by the server from the
    /// catalog (`format('%I')`, `pg_get_indexdef`): that text is then run, read-only, and its
    /// rows are the step's. For checks whose shape depends on the catalog (duplicated keys of a
    /// unique index, rows a constraint would reject). No row: nothing to run, no rows.
    public var generated: Bool
    /// For an action's preview: when this step has rows, the action cannot succeed; the preview
    /// shows this message (`{column}` from the first row) and issues no token.
    public var refuse: String?

    public init(title: String? = nil, sql: String, parameters: [String] = [], display: Display = .table,
                columns: [ColumnSpec] = [], emptyText: String? = nil, summary: String? = nil,
                requiresExtension: String? = nil, missingExtensionHint: String? = nil, capture: [String] = [],
                generated: Bool = false, refuse: String? = nil) {
        self.generated = generated
        self.refuse = refuse
        self.capture = capture
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
public struct ColumnSpec: Sendable, Equatable, Codable {
    public enum Unit: String, Sendable, Codable {
        case none, number, bytes, percent, seconds, milliseconds, duration
        /// `t`/`f` as yes/no; a timestamp to the second, in UTC.
        case boolean, timestamp
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

    public var isNumeric: Bool { ![.none, .boolean, .timestamp].contains(unit) }
}

/// What an action runs once confirmed.
public struct RunbookAction: Sendable, Codable {
    /// Statements run in order, parameters by argument name, identifiers by argument name.
    public var statements: [RunbookStatement]
    /// Run outside a transaction (VACUUM, REINDEX CONCURRENTLY).
    public var autocommit: Bool
    /// Lock level taken, shown in the preview ("SHARE UPDATE EXCLUSIVE").
    public var lockLevel: String?
    /// A boolean argument that, when set, makes the action need one more confirmation
    /// (`full` for VACUUM FULL).
    public var extraConfirmationWhen: String?
    /// Shown in the preview: what the action will do and what it cannot undo.
    public var warning: String?
    /// How long the action may wait for locks, in seconds, instead of the target's short
    /// diagnostic `lock_timeout` (REINDEX CONCURRENTLY waits for older transactions to end).
    public var lockTimeoutSeconds: Int?
    /// Read-only statements run when the action fails (what a failed REINDEX CONCURRENTLY left
    /// behind, and the command that cleans it up); their rows are shown with the error.
    public var onFailure: [RunbookStatement]
    /// Captured columns that must be unchanged when the action runs (`oid`, `reason`): after
    /// confirmation the preview steps that capture them, and its refusal steps (except
    /// generated ones), run again first; a different value, a vanished object or a refusal
    /// stops the action before it changes anything (the index was dropped and re-created
    /// under the same name, the constraint was validated meanwhile).
    public var recheck: [String]
    /// What to say when the recheck finds the object gone (`{index} no longer exists`).
    public var recheckGone: String?

    public init(statements: [RunbookStatement], autocommit: Bool = false, lockLevel: String? = nil,
                extraConfirmationWhen: String? = nil, warning: String? = nil, lockTimeoutSeconds: Int? = nil,
                onFailure: [RunbookStatement] = [], recheck: [String] = [], recheckGone: String? = nil) {
        self.onFailure = onFailure
        self.recheck = recheck
        self.recheckGone = recheckGone
        self.lockTimeoutSeconds = lockTimeoutSeconds
        self.statements = statements
        self.autocommit = autocommit
        self.lockLevel = lockLevel
        self.extraConfirmationWhen = extraConfirmationWhen
        self.warning = warning
    }
}

/// The prefix that names a preview column's captured values in `params` and `identifiers`.
public let capturedPrefix = "captured."

/// One statement of an action.
public struct RunbookStatement: Sendable, Codable {
    public var sql: String
    public var parameters: [String]
    /// Argument names substituted for `{{ident:NAME}}`, quoted by libpq.
    public var identifiers: [String]
    /// Argument names substituted for `{{literal:NAME}}`, quoted as string literals by libpq.
    public var literals: [String]
    /// Argument names substituted for `{{integer:NAME}}`: an integer checked in Swift before it
    /// is written into the SQL (`SET STATISTICS 500` takes no parameter and no string literal).
    public var integers: [String]
    /// Only run when this argument is given (a boolean: set to yes), e.g. `full` for VACUUM FULL.
    public var when: String?
    /// Only run when this argument is not given (or a boolean set to no).
    public var unless: String?
    /// A heading for the statement's rows in the result.
    public var title: String?
    /// How the statement's rows are shown (units, titles); every column as is when empty.
    /// A column named `problem` is not shown as a column: each non-empty value becomes a
    /// warning in the reply ("VACUUM removed nothing: pid 4242 holds the xmin horizon").
    public var columns: [ColumnSpec]

    public init(sql: String, parameters: [String] = [], identifiers: [String] = [], when: String? = nil,
                unless: String? = nil, title: String? = nil, columns: [ColumnSpec] = [], literals: [String] = [],
                integers: [String] = []) {
        self.integers = integers
        self.literals = literals
        self.columns = columns
        self.sql = sql
        self.parameters = parameters
        self.identifiers = identifiers
        self.when = when
        self.unless = unless
        self.title = title
    }

    /// Whether this statement runs for the given arguments.
    public func applies(to arguments: BoundArguments) -> Bool {
        func given(_ name: String) -> Bool {
            switch arguments[name] {
            case nil: false
            case .boolean(let b)?: b
            default: true
            }
        }
        if let when, !given(when) { return false }
        if let unless, given(unless) { return false }
        return true
    }
}
