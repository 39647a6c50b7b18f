import Foundation
import TriageCore
import TriageHandlers

/// A command that stops the process, for the quarantine test only: registered when
/// `TRIAGE_TEST_CRASH_COMMAND=1` is set, never otherwise. It proves that an input which kills
/// Triage is retried once after a restart and then quarantined, so it cannot keep the bot down.
struct CrashTestPlugin: FeaturePlugin {
    var name: String { "crash-test" }
    var sections: [String] { [] }

    static var enabled: Bool { ProcessInfo.processInfo.environment["TRIAGE_TEST_CRASH_COMMAND"] == "1" }

    func makeFeature(_ context: FeatureContext) throws -> FeatureParts {
        FeatureParts(handlers: [Handler()])
    }

    struct Handler: CommandHandler {
        var declarations: [CommandDeclaration] {
            [CommandDeclaration(words: ["crash-test"], summary: "Stops Triage at once (tests only).")]
        }
        func handle(_ context: CommandContext) async throws -> CommandOutcome {
            // A hard stop, as a trap reached from data would be (no unwinding, no cleanup).
            kill(getpid(), SIGKILL)
            return CommandOutcome(reply: .text("unreachable"))
        }
    }
}
