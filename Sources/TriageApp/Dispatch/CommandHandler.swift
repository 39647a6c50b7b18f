import Foundation
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
}

/// What a handler produced: the reply, and what to write to the store in the same
/// transaction that records the message as handled.
public struct CommandOutcome: Sendable {
    public var reply: Reply
    /// Record this as a `command` event when an incident is open in the room.
    public var recordsCommand: Bool
    /// Writes done in the handling transaction; may refine the reply (e.g. with an incident id).
    public var commit: (@Sendable (StoreTransaction, Reply) throws -> Reply)?

    public init(reply: Reply, recordsCommand: Bool = false,
                commit: (@Sendable (StoreTransaction, Reply) throws -> Reply)? = nil) {
        self.reply = reply
        self.recordsCommand = recordsCommand
        self.commit = commit
    }
}

/// A group of commands: declares them and handles them.
public protocol CommandHandler: Sendable {
    /// The commands this handler serves.
    var declarations: [CommandDeclaration] { get }
    /// Handles one invocation of one of `declarations`.
    func handle(_ context: CommandContext) async throws -> CommandOutcome
}
