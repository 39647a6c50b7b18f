import Foundation
import TriageCore
import TriageHandlers

/// A command that stops the process, for the quarantine test only: registered when
/// `TRIAGE_TEST_CRASH_COMMAND=1` is set, never otherwise. It proves that an input which kills
/// Triage is retried once after a restart and then quarantined, so it cannot keep the bot down;
/// `/crash-test-instant` is declared instant (it skips the arrival journal, like `/ping`), to
/// prove the same of those.
struct CrashTestPlugin: FeaturePlugin {
    var name: String { "crash-test" }
    var sections: [String] { [] }

    static var enabled: Bool { ProcessInfo.processInfo.environment["TRIAGE_TEST_CRASH_COMMAND"] == "1" }

    func makeFeature(_ context: FeatureContext) throws -> FeatureParts {
        FeatureParts(handlers: [Handler()])
    }

    struct Handler: CommandHandler {
        var declarations: [CommandDeclaration] {
            var instant = CommandDeclaration(words: ["crash-test-instant"], summary: "Stops Triage at once, declared instant (tests only).")
            instant.instant = true
            return [CommandDeclaration(words: ["crash-test"], summary: "Stops Triage at once (tests only)."), instant]
        }
        func handle(_ context: CommandContext) async throws -> CommandOutcome {
            // A hard stop, as a trap reached from data would be (no unwinding, no cleanup).
            kill(getpid(), SIGKILL)
            return CommandOutcome(reply: .text("unreachable"))
        }
    }
}
