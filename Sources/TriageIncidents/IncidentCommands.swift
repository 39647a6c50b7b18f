import Foundation
import TriageChat
import TriageCore
import TriageHandlers
import TriageStore

/// Incident lifecycle commands: open (with a database snapshot), state, severity, status,
/// roles, notes, follow-ups, resolve, reopen, lists, timeline and postmortems.
///
/// Every change is written by the outcome's commit closure, in the dispatcher's transaction,
/// so the events exist before the reply that mentions them is returned. Refusals (no open
/// incident, nothing to change) are checked inside that transaction and undo nothing else.
public struct IncidentCommands: CommandHandler {
    /// Where the snapshot taken at opening comes from (nil: no snapshot, the event says so).
    let database: (any SQLRunner)?
    /// For read-only work outside the handling transaction (postmortems, the pre-check at opening).
    let store: BotStore?
    let postmortems: PostmortemSettings

    /// - Parameters:
    ///   - database: the database to snapshot when an incident opens.
    ///   - store: the timeline store, for postmortems and checks before the snapshot.
    ///   - postmortems: where `/postmortem` writes its files.
    public init(database: (any SQLRunner)? = nil, store: BotStore? = nil, postmortems: PostmortemSettings = PostmortemSettings()) {
        self.database = database
        self.store = store
        self.postmortems = postmortems
    }

    public var declarations: [CommandDeclaration] {
        let section = "Incidents"
        let statuses = IncidentStatus.allCases.map(\.rawValue)
        return [
            CommandDeclaration(words: ["incident", "open"], summary: "Open an incident in this room (takes a database snapshot).", section: section,
                               arguments: [ArgumentDeclaration(name: "severity", type: .choice(Severity.allCases.map(\.rawValue)), isRequired: true),
                                           ArgumentDeclaration(name: "title", type: .text, isRequired: true)],
                               role: .responder, aliases: [["declare"]]),
            CommandDeclaration(words: ["incident"], summary: "Show this room's incident: severity, status, roles, age, last events.", section: section,
                               arguments: [ArgumentDeclaration(name: "id", type: .string, help: "another incident's id")]),
            CommandDeclaration(words: ["sev"], summary: "Change the open incident's severity.", section: section,
                               arguments: [ArgumentDeclaration(name: "severity", type: .choice(Severity.allCases.map(\.rawValue)), isRequired: true)],
                               role: .responder),
            CommandDeclaration(words: ["status"], summary: "Move the open incident to another status.", section: section,
                               arguments: [ArgumentDeclaration(name: "status", type: .choice(statuses), isRequired: true)],
                               role: .responder),
            CommandDeclaration(words: ["role"], summary: "Give an incident role to someone (`me` for yourself).", section: section,
                               arguments: [ArgumentDeclaration(name: "role", type: .choice(IncidentRole.allCases.map(\.rawValue)), isRequired: true),
                                           ArgumentDeclaration(name: "person", type: .string, isRequired: true, help: "@name, or me")],
                               role: .responder),
            CommandDeclaration(words: ["note"], summary: "Add a note to the open incident's timeline.", section: section,
                               arguments: [ArgumentDeclaration(name: "text", type: .text, isRequired: true)], role: .responder),
            CommandDeclaration(words: ["action"], summary: "Record a follow-up action item for the postmortem.", section: section,
                               arguments: [ArgumentDeclaration(name: "text", type: .text, isRequired: true)], role: .responder),
            CommandDeclaration(words: ["resolve"], summary: "Resolve the open incident.", section: section,
                               arguments: [ArgumentDeclaration(name: "summary", type: .text)], role: .responder),
            CommandDeclaration(words: ["reopen"], summary: "Reopen this room's last resolved incident.", section: section,
                               arguments: [ArgumentDeclaration(name: "reason", type: .text)], role: .responder),
            CommandDeclaration(words: ["incidents"], summary: "List open incidents in every room (--all: recent resolved ones too).", section: section,
                               arguments: [ArgumentDeclaration(name: "all", type: .boolean, isFlag: true)]),
            CommandDeclaration(words: ["timeline"], summary: "Show the incident's timeline.", section: section,
                               arguments: [ArgumentDeclaration(name: "last", type: .integer(min: 1, max: 500), isFlag: true, defaultValue: "20")]),
            CommandDeclaration(words: ["postmortem"], summary: "Write the postmortem (Markdown, SVG timeline, JSON) and summarise it.", section: section,
                               arguments: [ArgumentDeclaration(name: "id", type: .integer(min: 1, max: Int.max), help: "incident id (default: this room's)")],
                               role: .responder),
        ]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        switch context.declaration.name {
        case "incident open": return try await open(context)
        case "incident": return try show(context)
        case "sev": return severity(context)
        case "status": return status(context)
        case "role": return role(context)
        case "note": return note(context)
        case "action": return followUp(context)
        case "resolve": return resolve(context)
        case "reopen": return reopen(context)
        case "incidents": return list(context)
        case "postmortem": return try await postmortem(context)
        default: return timeline(context)
        }
    }

    /// An outcome whose commit runs `body` in a savepoint; a presentable refusal becomes the reply.
    static func outcome(_ body: @escaping @Sendable (StoreTransaction) throws -> Reply) -> CommandOutcome {
        CommandOutcome(reply: Reply()) { tx, _ in
            do {
                return try tx.attempt { try body(tx) }
            } catch let refusal as TriageError {
                return Reply(blocks: [.note(refusal.description, .warning)], mark: .warning, summary: refusal.description)
            }
        }
    }

    static func active(_ tx: StoreTransaction, _ m: InboundMessage) throws -> Incident {
        guard let incident = try tx.activeIncident(platform: m.platform, room: m.room) else {
            if let last = try tx.latestIncident(platform: m.platform, room: m.room) {
                throw TriageError(.notFound, "No open incident in this room (the last one, #\(last.id!), is resolved; /reopen reopens it). Open one with /incident open SEV TITLE.")
            }
            throw TriageError(.notFound, "No open incident in this room. Open one with /incident open SEV TITLE.")
        }
        return incident
    }

    /// `{"from":"a","to":"b"}` for status, severity and role events (`role` names the role).
    static func change(_ from: String?, _ to: String?, role: String? = nil) -> String {
        TimelinePayload.json(TimelinePayload.Change(from: from, to: to, role: role))
    }
}
