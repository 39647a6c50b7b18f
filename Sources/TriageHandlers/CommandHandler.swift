import Foundation
import Logging
import TriageChat
import TriageCore
import TriageStore

/// Everything a handler knows about one invocation.
public struct CommandContext: Sendable {
    public var message: InboundMessage
    public var declaration: CommandDeclaration
    public var arguments: BoundArguments
    public var parsed: ParsedCommand
    /// The time the dispatcher started handling the message.
    public var now: Date
    /// Every declared command (for `/help`, `/runbook`, suggestions).
    public var registry: CommandRegistry
    /// Carries the message's platform, room and id as metadata.
    public var logger: Logger
    /// Where a handler that opens or resolves an incident says so, in its commit.
    public var incidentEvents: IncidentEvents
    /// Posts an interim message to the room at once ("waiting for …"), before the result.
    public var notify: @Sendable (Reply) async -> Void

    public init(message: InboundMessage, declaration: CommandDeclaration, arguments: BoundArguments,
                parsed: ParsedCommand, now: Date, registry: CommandRegistry, logger: Logger,
                incidentEvents: IncidentEvents = IncidentEvents(), notify: @escaping @Sendable (Reply) async -> Void = { _ in }) {
        self.message = message
        self.declaration = declaration
        self.arguments = arguments
        self.parsed = parsed
        self.now = now
        self.registry = registry
        self.logger = logger
        self.incidentEvents = incidentEvents
        self.notify = notify
    }
}

/// What a handler produced: the reply, and what to write to the store in the same
/// transaction that records the message as handled.
public struct CommandOutcome: Sendable {
    public var reply: Reply
    /// Record this as a `command` event when an incident is open in the room.
    public var recordsCommand: Bool
    /// Writes done in the handling transaction; may refine the reply (e.g. with an incident id).
    public var commit: (@Sendable (StoreTransaction, Reply) throws -> Reply)?
    /// Command lines the reply suggests running next (`/pg locks`). The dispatcher offers the
    /// diagnostics among them as buttons where the platform has buttons; actions and lines
    /// that do not parse are left as text.
    public var suggestedCommands: [String]

    public init(reply: Reply, recordsCommand: Bool = false,
                commit: (@Sendable (StoreTransaction, Reply) throws -> Reply)? = nil, suggestedCommands: [String] = []) {
        self.reply = reply
        self.recordsCommand = recordsCommand
        self.commit = commit
        self.suggestedCommands = suggestedCommands
    }
}

/// A group of commands: declares them and handles them.
///
/// A declaration of kind `action` is never handed to ``handle(_:)``: the dispatcher asks its
/// handler, which must be an ``ActionHandler``, for a preview, and runs it only after the
/// confirmations the declaration asks for.
public protocol CommandHandler: Sendable {
    /// The commands this handler serves.
    var declarations: [CommandDeclaration] { get }
    /// Handles one invocation of one of `declarations`.
    func handle(_ context: CommandContext) async throws -> CommandOutcome
}

/// A handler of commands that change something: it previews, and it runs what was confirmed.
public protocol ActionHandler: CommandHandler {
    /// Shows, read-only, what the action would affect. Nothing may change.
    func preview(_ context: CommandContext) async throws -> ActionPreview
    /// Runs the confirmed action with the preview's captured values.
    func execute(_ context: CommandContext, captured: [String: [String?]], target: String?) async throws -> ActionResult
}

/// What an action would do, as its preview showed it.
public struct ActionPreview: Sendable {
    /// The preview's rendered blocks (affected sessions, tables, sizes).
    public var blocks: [ReplyBlock]
    /// One line for the timeline.
    public var summary: String?
    /// Nothing matched: no token is issued.
    public var nothingToDo: Bool
    /// Values the action re-checks (`pid` of the sessions shown), by column.
    public var captured: [String: [String?]]
    /// The database target, nil for the default.
    public var target: String?
    /// The lock the action takes (`SHARE UPDATE EXCLUSIVE`).
    public var lockLevel: String?
    /// Said before confirming (`rewrites the table`).
    public var warning: String?
    /// A second confirmation, by another person, is needed (e.g. `--full`).
    public var needsExtraConfirmation: Bool
    /// Why the action cannot succeed as things are (duplicated keys for a unique reindex):
    /// no token is issued.
    public var refusals: [String]
    /// The arguments to store for the confirmation, when the preview settled more than the
    /// typed ones (nil: the typed ones).
    public var arguments: BoundArguments?

    public init(blocks: [ReplyBlock], summary: String? = nil, nothingToDo: Bool = false, captured: [String: [String?]] = [:],
                target: String? = nil, lockLevel: String? = nil, warning: String? = nil, needsExtraConfirmation: Bool = false,
                refusals: [String] = [], arguments: BoundArguments? = nil) {
        self.blocks = blocks
        self.summary = summary
        self.nothingToDo = nothingToDo
        self.captured = captured
        self.target = target
        self.lockLevel = lockLevel
        self.warning = warning
        self.needsExtraConfirmation = needsExtraConfirmation
        self.refusals = refusals
        self.arguments = arguments
    }
}

/// What a confirmed action did.
public struct ActionResult: Sendable {
    public var blocks: [ReplyBlock]
    /// One line: what changed (`terminated: 3 of 3`), or why nothing did.
    public var summary: String
    /// False when the action ran but achieved nothing it was meant to (shown as a warning).
    public var hadEffect: Bool

    public init(blocks: [ReplyBlock], summary: String, hadEffect: Bool = true) {
        self.blocks = blocks
        self.summary = summary
        self.hadEffect = hadEffect
    }
}

/// A confirmed action that failed: the message (with the server's DETAIL) and what was found
/// afterwards (the leftover of a failed REINDEX CONCURRENTLY, and how to drop it).
public struct ActionFailure: PresentableError {
    public var message: String
    public var blocks: [ReplyBlock]
    public var description: String { message }

    public init(message: String, blocks: [ReplyBlock]) {
        self.message = message
        self.blocks = blocks
    }
}
