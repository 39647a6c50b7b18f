import Foundation
import TriageCore
import TriageHandlers

/// `/alerts`, `/silence`, `/silences`, `/unsilence` when the config has no `alerts` section:
/// they say so (and where to read how) instead of "did you mean …?".
struct AlertsNotConfigured: CommandHandler {
    var declarations: [CommandDeclaration] { AlertCommands.declarations }

    func handle(_ context: CommandContext) async throws -> CommandOutcome {
        throw TriageError(.config, "Alerts are not configured: add an `alerts:` section (see config/alerts.example.yaml and docs/alerts.md).")
    }
}
