import Foundation
import Synchronization
import Testing
import TriageChat
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore
import TriageTesting
@testable import TriageAlerts

/// The port features use to run commands as the bot: late-bound, viewer-only, diagnostics only.
@Suite("CommandRunner: bot-run diagnostics")
struct CommandRunnerTests {
    static let environment = ["DATABASE_URL": "postgresql://127.0.0.1:1/none"]

    /// A diagnostic, a responder-only diagnostic and an action, each counting its runs.
    final class Probe: ActionHandler {
        let runs = Mutex<[String]>([])

        var declarations: [CommandDeclaration] {
            [
                CommandDeclaration(words: ["probe", "look"], summary: "read", kind: .diagnostic),
                CommandDeclaration(words: ["probe", "secret"], summary: "read, responders only", kind: .diagnostic, role: .responder),
                CommandDeclaration(words: ["probe", "drop"], summary: "change", kind: .action, role: .viewer, confirmations: 1),
                CommandDeclaration(words: ["probe", "note"], summary: "a built-in", kind: .builtin),
            ]
        }

        func handle(_ context: CommandContext) async throws -> CommandOutcome {
            let m = context.message
            let line = "\(context.declaration.name) as \(m.role) in \(m.room)"
            runs.withLock { $0.append(line) }
            return CommandOutcome(reply: Reply.text("ran \(context.declaration.name)"))
        }

        func preview(_ context: CommandContext) async throws -> ActionPreview {
            runs.withLock { $0.append("preview " + context.declaration.name) }
            return ActionPreview(blocks: [.text("would drop")])
        }

        func execute(_ context: CommandContext, captured: [String: [String?]], target: String?) async throws -> ActionResult {
            runs.withLock { $0.append("execute " + context.declaration.name) }
            return ActionResult(blocks: [], summary: "dropped")
        }
    }

    /// Keeps the runner the composition root hands to features.
    final class Capture: FeaturePlugin {
        let runner = Mutex<CommandRunner?>(nil)
        var name: String { "capture" }
        var sections: [String] { [] }
        func makeFeature(_ context: FeatureContext) throws -> FeatureParts {
            runner.withLock { $0 = context.commands }
            return FeatureParts()
        }
    }

    func assemble(_ yaml: String = "console: {user: alice, role: operator}\n") throws -> (TriageApplication, Probe, CommandRunner) {
        let probe = Probe()
        let capture = Capture()
        let config = try TriageConfig.parse(yaml, file: "triage.yaml", environment: Self.environment)
        let app = try TriageApplication(config: config, plugins: PluginList(features: StandardPlugins.all.features + [capture],
                                                                             platforms: StandardPlugins.all.platforms),
                                        logger: AlertsTestEnvironment.logger, environment: Self.environment,
                                        store: try BotStore.inMemory(), extraHandlers: [probe])
        let runner = try capture.runner.withLock { $0 }.orThrow("the runner")
        return (app, probe, runner)
    }

    @Test func anUnboundRunnerRunsNothing() async {
        let runner = CommandRunner()
        #expect(await runner.diagnostic("/probe look") == nil)
    }

    @Test func diagnosticsRunAsAViewerInARoomOfTheirOwn() async throws {
        let (app, probe, runner) = try assemble()
        defer { Task { await app.shutdown() } }
        let reply = try #require(await runner.diagnostic("/probe look"))
        #expect(TextRenderer().render(reply).contains("ran probe look"))
        #expect(probe.runs.withLock { $0 } == ["probe look as viewer in \(Dispatcher.diagnosticsRoom)"])
    }

    @Test func actionsAndBuiltinsAreRefusedNeverPreviewed() async throws {
        let (app, probe, runner) = try assemble()
        defer { Task { await app.shutdown() } }
        for line in ["/probe drop", "/probe note", "/incident open sev1 from an alert"] {
            let reply = try #require(await runner.diagnostic(line))
            #expect(TextRenderer().render(reply).contains("is not a diagnostic"), "\(line)")
        }
        #expect(probe.runs.withLock { $0 }.isEmpty)
        // Nothing was opened behind the refusal.
        #expect(try await app.store.read { tx in try tx.incidents() }.isEmpty)
    }

    @Test func aDiagnosticAboveTheViewerRoleIsRefused() async throws {
        let (app, probe, runner) = try assemble()
        defer { Task { await app.shutdown() } }
        let reply = try #require(await runner.diagnostic("/probe secret"))
        #expect(TextRenderer().render(reply).contains("needs the responder role"))
        #expect(probe.runs.withLock { $0 }.isEmpty)
    }

    @Test func withoutAnAlertsSectionTheCommandsSaySo() async throws {
        let (app, _, _) = try assemble()
        defer { Task { await app.shutdown() } }
        #expect(!app.featureServices.contains { $0 is AlertFollowService })
        let m = InboundMessage(platform: "console", room: "console", sender: "alice", text: "/alerts", messageID: "1", role: .operator)
        let reply = try #require(await app.dispatcher.handle(m))
        #expect(TextRenderer().render(reply).contains("Alerts are not configured"))
    }
}
