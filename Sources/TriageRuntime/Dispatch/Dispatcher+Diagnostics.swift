import Foundation
import Logging
import TriageChat
import TriageCore

extension Dispatcher {
    /// The room bot-run diagnostics are handled in: no chat room, so no incident timeline
    /// records them (the feature that asked records what it wants).
    public static let diagnosticsRoom = "triage-diagnostics"

    /// Runs one command line as the bot, with the viewer role, for a feature that acts without
    /// a chat message (an alert's diagnostics). Only declarations of kind `diagnostic` run;
    /// anything else gets a refusal and is never handed to its handler.
    public func runDiagnostic(_ line: String) async -> Reply? {
        do {
            let (declaration, _) = try registry.resolve(try parser.parse(line))
            guard declaration.kind == .diagnostic else {
                return Reply.text("/\(declaration.name) is not a diagnostic; Triage runs only diagnostics on its own.", mark: .warning)
            }
        } catch {
            return Self.reply(for: error, logger: logger)
        }
        let message = InboundMessage(platform: "console", room: Self.diagnosticsRoom, sender: "triage", senderName: "triage",
                                     text: line, messageID: "diagnostic-\(UUID().uuidString)", role: .viewer)
        return await handle(message)
    }
}
