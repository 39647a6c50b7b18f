import Foundation
import TriageChat
import TriageHandlers
import TriageCore

/// `/page`, `/ack`, `/escalate` and `/oncall` when the config has no `paging` section: each
/// says that paging is not configured and where to read how, instead of "did you mean /pg?".
/// Arguments are accepted as free text, so `/page @bob disk full` gets the same answer.
public struct PagingNotConfigured: CommandHandler {
    public init() {}

    static let message = "Paging is not configured: add a paging: section to the config (people, schedules, policies, "
        + "providers; see config/paging.example.yaml and docs/paging.md) and run Triage with --config."

    public var declarations: [CommandDeclaration] {
        let rest = [ArgumentDeclaration(name: "arguments", type: .text, help: "as documented in docs/paging.md")]
        return [
            CommandDeclaration(words: ["page"], summary: "Page a policy or a person (paging is not configured).", section: "Paging", arguments: rest),
            CommandDeclaration(words: ["ack"], summary: "Acknowledge pages (paging is not configured).", section: "Paging", arguments: rest,
                               aliases: [["acknowledge"]]),
            CommandDeclaration(words: ["escalate"], summary: "Page the next level (paging is not configured).", section: "Paging", arguments: rest),
            CommandDeclaration(words: ["oncall"], summary: "Who is on call (paging is not configured).", section: "Paging", arguments: rest),
        ]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        throw TriageError(.config, Self.message)
    }
}
