/// Whether a command only reads, or changes something.
public enum CommandKind: String, Sendable, Codable {
    /// Read-only: runs in a read-only transaction with timeouts.
    case diagnostic
    /// Changes the database: preview first, then confirmation.
    case action
    /// Built into Triage (incidents, paging, help).
    case builtin
}

/// Everything Triage knows about one command: help, usage, checks, and what it runs.
///
/// Runbook commands come from `commands/*.yaml`; built-in commands are declared in Swift.
/// Help text, usage errors and suggestions are all generated from declarations.
public struct CommandDeclaration: Sendable, Codable {
    /// The words that name the command, e.g. `["pg", "connections"]`.
    public var words: [String]
    public var summary: String
    /// The runbook section this step comes from, e.g. "1. Connection Pool Exhausted".
    public var section: String
    /// Symptoms from the runbook this command helps with.
    public var symptoms: [String]
    public var arguments: [ArgumentDeclaration]
    public var kind: CommandKind
    public var role: Role
    /// How many confirmations an action needs (0 for none).
    public var confirmations: Int
    /// Other names for the command's first word (`declare` for `incident open`).
    public var aliases: [[String]]
    /// The runbook steps to run, for runbook commands.
    public var runbook: RunbookSpec?
    /// Where the declaration came from (`commands/connections.yaml:12`), for error messages.
    public var origin: String?
    /// Answered from Triage's own state alone: no database, network, store write or wait
    /// before its commit. Such a command skips the arrival journal (see `CursorWatermark`): a
    /// crash before its commit has done nothing, and the platform delivers it again.
    public var instant: Bool = false

    public init(words: [String], summary: String, section: String = "", symptoms: [String] = [],
                arguments: [ArgumentDeclaration] = [], kind: CommandKind = .builtin, role: Role = .viewer,
                confirmations: Int = 0, aliases: [[String]] = [], runbook: RunbookSpec? = nil, origin: String? = nil) {
        self.words = words.map { $0.lowercased() }
        self.summary = summary
        self.section = section
        self.symptoms = symptoms
        self.arguments = arguments
        self.kind = kind
        self.role = role
        self.confirmations = confirmations
        self.aliases = aliases
        self.runbook = runbook
        self.origin = origin
    }

    /// `pg connections`
    public var name: String { words.joined(separator: " ") }

    /// `/pg idle [--older DURATION]`
    public var usage: String {
        (["/" + name] + arguments.map(\.usage)).joined(separator: " ")
    }
}
