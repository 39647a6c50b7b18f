import Foundation
import Logging
import Synchronization
import Testing
import TriageChat
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore
import TriageTesting

/// Confirmation is the dispatcher's stage for every action, whoever implements it.
@Suite final class ConfirmationStageTests {
    /// An action implemented in Swift: counts its runs and what it ran with.
    final class Zap: ActionHandler {
        let runs = Mutex<[BoundArguments]>([])
        var declarations: [CommandDeclaration] {
            [CommandDeclaration(words: ["zap"], summary: "Zaps a thing.",
                                arguments: [ArgumentDeclaration(name: "thing", type: .string, isRequired: true)],
                                kind: .action, role: .operator, confirmations: 1)]
        }
        func handle(_ context: CommandContext) async throws -> CommandOutcome {
            runs.withLock { $0.append(context.arguments) }
            return CommandOutcome(reply: .text("zapped without asking"))
        }
        func preview(_ context: CommandContext) async throws -> ActionPreview {
            ActionPreview(blocks: [.text("would zap \(context.arguments.string("thing") ?? "?")")], summary: "zap")
        }
        func execute(_ context: CommandContext, captured: [String: [String?]], target: String?) async throws -> ActionResult {
            runs.withLock { $0.append(context.arguments) }
            return ActionResult(blocks: [], summary: "zapped \(context.arguments.string("thing") ?? "?")")
        }
    }

    /// Declares an action but has no preview: must never run.
    final class Sneaky: CommandHandler {
        let ran = Mutex(false)
        var declarations: [CommandDeclaration] {
            [CommandDeclaration(words: ["sneak"], summary: "Changes things.", kind: .action, role: .operator)]
        }
        func handle(_ context: CommandContext) async throws -> CommandOutcome {
            ran.withLock { $0 = true }
            return CommandOutcome(reply: .text("ran"))
        }
    }

    let store: BotStore
    let zap = Zap()
    let sneaky = Sneaky()
    let dispatcher: Dispatcher
    let counter = Mutex(0)

    init() throws {
        store = try BotStore.inMemory()
        dispatcher = Dispatcher(handlers: [zap, sneaky], store: store,
                                logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }),
                                parser: CommandLineParser(prefixes: ["/", "!"]))
    }

    func say(_ text: String, sender: String = "@alice") async -> Reply {
        let n = counter.withLock { $0 += 1; return $0 }
        let m = InboundMessage(platform: "matrix", room: "!ops", sender: sender, text: text, messageID: "e\(n)", role: .operator)
        return await dispatcher.handle(m) ?? Reply()
    }

    static func token(_ reply: Reply) -> String? {
        TextRenderer().render(reply).components(separatedBy: "/confirm ").dropFirst().first.map { String($0.prefix(8)) }
    }

    @Test func aBangPrefixedActionIsConfirmedAndRunsOnceWithItsBoundArguments() async throws {
        let preview = await say("!zap \"the thing\"")
        #expect(preview.title?.hasPrefix("Preview") == true)
        #expect(zap.runs.withLock { $0.isEmpty })
        let token = try #require(Self.token(preview))
        let done = await say("/confirm \(token)")
        #expect(done.title == "Done: !zap \"the thing\"")
        #expect(zap.runs.withLock { $0.map { $0.string("thing") } } == ["the thing"])
        let replay = await say("/confirm \(token)")
        #expect(TextRenderer().render(replay).contains("already used"))
        #expect(zap.runs.withLock { $0.count } == 1)
    }

    @Test func anActionWithoutAPreviewNeverRuns() async throws {
        let reply = await say("/sneak")
        #expect(TextRenderer().render(reply).contains("has no preview"))
        #expect(sneaky.ran.withLock { $0 } == false)
    }
}
