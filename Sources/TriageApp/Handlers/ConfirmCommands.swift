import Foundation
import Logging
import TriageCore
import TriageStore

/// `/confirm TOKEN` and `/cancel [TOKEN]`: the second half of every database action.
public struct ConfirmCommands: CommandHandler {
    let flow: ConfirmationFlow
    let store: TimelineStore
    /// The action declarations, to re-bind a pending action's command line.
    let registry: CommandRegistry
    let logger: Logger
    let parser = CommandLineParser()

    public init(flow: ConfirmationFlow, store: TimelineStore, actions: [CommandDeclaration], logger: Logger) {
        self.logger = logger
        self.flow = flow
        self.store = store
        self.registry = CommandRegistry(actions.filter { $0.kind == .action })
    }

    public var declarations: [CommandDeclaration] {
        let section = "Actions"
        return [
            CommandDeclaration(words: ["confirm"], summary: "Run a previewed database action (single-use token, valid 5 minutes).",
                               section: section,
                               arguments: [ArgumentDeclaration(name: "token", type: .string, isRequired: true,
                                                               help: "the token shown by the preview")],
                               role: .operator),
            CommandDeclaration(words: ["cancel"], summary: "Drop a previewed action (the latest in this room when no token is given).",
                               section: section,
                               arguments: [ArgumentDeclaration(name: "token", type: .string, help: "the token shown by the preview")],
                               role: .operator),
        ]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        context.declaration.name == "confirm" ? try await confirm(context) : try await cancel(context)
    }

    func confirm(_ context: CommandContext) async throws -> CommandOutcome {
        let m = context.message
        let now = context.now
        let token = (context.arguments.string("token") ?? "").lowercased()
        let newToken = ConfirmationFlow.newToken()
        let expires = now.addingTimeInterval(flow.lifetime)
        let line = context.parsed.line
        let claim = try await store.write { tx -> ConfirmationClaim in
            let claim = try tx.claim(token: token, platform: m.platform, room: m.room, by: m.senderName, at: now,
                                     newToken: newToken, expiresAt: expires)
            switch claim {
            case .run(let a), .needsAnother(let a):
                if let incident = try tx.activeIncident(platform: m.platform, room: m.room) {
                    try tx.append(TimelineEvent(incidentID: incident.id!, at: now, actor: m.senderName, kind: .confirmation,
                                                command: line,
                                                text: "\(m.senderName) confirmed \(a.line) (requested by \(a.requestedBy))"))
                }
            default: break
            }
            return claim
        }
        switch claim {
        case .unknown:
            throw TriageError(.notFound, "No action with token '\(token.prefix(20))'. Nothing was run.")
        case .otherRoom:
            throw TriageError(.forbidden, "That token was issued in another room. Nothing was run.")
        case .used(let a):
            let how = a.status == .cancelled ? "was cancelled" : "was already used (\(a.status)" + (a.confirmedBy.map { ", confirmed by \($0)" } ?? "") + ")"
            throw TriageError(.conflict, "Token \(a.token) \(how). Nothing was run again; run the command for a new preview.")
        case .expired(let a):
            throw TriageError(.conflict, "Token \(a.token) expired at \(UTCTime.format(a.expiresAt)). Nothing was run; run \(a.line) again for a fresh preview.")
        case .needsAnother(let a):
            let reply = Reply(title: "Confirmation 1 of \(a.confirmationsNeeded) recorded: \(a.line)",
                              blocks: [.note("This action rewrites or blocks (see the preview). Nothing has run yet. "
                                             + "To really run it: /confirm \(a.token) (valid until \(UTCTime.format(a.expiresAt))).", .warning)],
                              mark: .warning, summary: "first confirmation of \(a.line); second: /confirm \(a.token)")
            return CommandOutcome(reply: reply)
        case .run(let pending):
            return await run(pending, context: context)
        }
    }

    func run(_ pending: PendingAction, context: CommandContext) async -> CommandOutcome {
        let m = context.message
        var blocks: [ReplyBlock] = []
        var status = PendingAction.Status.done
        var summary: String
        do {
            let parsed = try parser.parse(pending.line)
            let (declaration, arguments) = try registry.resolve(parsed)
            let (resultBlocks, text) = try await flow.execute(declaration, arguments: arguments, pending: pending)
            blocks = resultBlocks
            summary = "\(pending.line) done: \(text)"
        } catch {
            status = .failed
            let message: String
            if let presentable = error as? PresentableError {
                message = presentable.description
            } else {
                let ref = String(UInt32.random(in: 0...UInt32.max), radix: 16)
                logger.error("action failed", metadata: ["error.ref": "\(ref)", "error": "\(String(reflecting: error))"])
                message = "Internal error (ref \(ref)). The details are in Triage's log."
            }
            blocks = [.note(message, .critical)] + ((error as? ActionFailure)?.blocks ?? [])
            summary = "\(pending.line) failed: \(message)"
        }
        let finishedAt = Date(timeIntervalSince1970: max(context.now.timeIntervalSince1970, Date().timeIntervalSince1970))
        // A run that did not achieve what it is for ("VACUUM removed nothing") is not an all-clear.
        let warned = blocks.contains { if case .note(_, let mark) = $0 { mark >= .warning } else { false } }
        let reply = Reply(title: (status == .done ? (warned ? "Done, with a warning: " : "Done: ") : "Failed: ") + pending.line,
                          blocks: blocks + [.keyValues([KeyValue("requested by", pending.requestedBy),
                                                        KeyValue("confirmed by", pending.confirmedBy ?? m.senderName)])],
                          mark: status == .done ? (warned ? .warning : .ok) : .critical, summary: summary)
        let token = pending.token
        let (finalStatus, finalSummary) = (status, summary)
        return CommandOutcome(reply: reply) { tx, reply in
            try tx.finish(token: token, status: finalStatus, result: finalSummary, at: finishedAt)
            if let incident = try tx.activeIncident(platform: m.platform, room: m.room) {
                try tx.append(TimelineEvent(incidentID: incident.id!, at: context.now, actor: m.senderName, kind: .action,
                                            command: pending.line, text: finalSummary,
                                            output: TextRenderer(maxCellWidth: 4000).render(reply)))
            }
            return reply
        }
    }

    func cancel(_ context: CommandContext) async throws -> CommandOutcome {
        let m = context.message
        let now = context.now
        let token = context.arguments.string("token")?.lowercased()
        let line = context.parsed.line
        let cancelled: PendingAction = try await store.write { tx in
            let found: PendingAction?
            if let token {
                found = try tx.pendingAction(token: token)
            } else {
                found = try tx.latestPendingAction(platform: m.platform, room: m.room, at: now)
            }
            guard let action = found, action.platform == m.platform, action.room == m.room else {
                throw TriageError(.notFound, token == nil ? "No pending action in this room." : "No action with that token in this room.")
            }
            guard try tx.cancel(token: action.token, at: now) else {
                throw TriageError(.conflict, "Token \(action.token) is not pending (\(action.status)); nothing to cancel.")
            }
            if let incident = try tx.activeIncident(platform: m.platform, room: m.room) {
                try tx.append(TimelineEvent(incidentID: incident.id!, at: now, actor: m.senderName, kind: .action,
                                            command: line, text: "cancelled \(action.line) (token \(action.token))"))
            }
            return action
        }
        return CommandOutcome(reply: Reply.text("Cancelled \(cancelled.line) (token \(cancelled.token)). Nothing was run.", mark: .ok))
    }
}
