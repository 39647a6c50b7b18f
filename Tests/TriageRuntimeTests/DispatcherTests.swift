import Foundation
import Testing
import TriageTesting
@testable import TriageRuntime
@testable import TriageRunbook
@testable import TriageIncidents
import TriageHandlers
import TriageChat
import TriageCore
import TriageStore

/// The dispatcher on a real SQLite store: refusals, roles, mentions, duplicates, cursors.
@Suite struct DispatcherTests {
    struct Refuser: CommandHandler {
        var declarations: [CommandDeclaration] {
            [CommandDeclaration(words: ["refuse"], summary: "Always refused in its commit."),
             CommandDeclaration(words: ["zap"], summary: "Operators only.", role: .operator)]
        }
        func handle(_ context: CommandContext) async throws -> CommandOutcome {
            CommandOutcome(reply: .text("never shown")) { tx, _ in
                try tx.setCursor("written-then-rolled-back", platform: "side-effect")
                throw TriageError(.conflict, "Refused for a reason.")
            }
        }
    }

    let store: BotStore
    let dispatcher: Dispatcher

    init() throws {
        store = try BotStore(path: TestEnvironment.scratch("dispatch").appendingPathComponent("t.sqlite").path)
        dispatcher = Dispatcher(handlers: [Refuser()], store: store, logger: TestEnvironment.logger, botName: "TriageBot")
    }

    func message(_ text: String, id: String, role: Role = .viewer) -> InboundMessage {
        InboundMessage(platform: "test", room: "r1", sender: "u1", text: text, messageID: id, role: role)
    }

    @Test func aRefusalInTheCommitIsTheReplyAndTheMessageIsStillHandled() async throws {
        let reply = await dispatcher.handle(message("/refuse", id: "1"), delivery: .init(cursor: "c1", enqueue: true))
        #expect(reply.map { TextRenderer().render($0) } == "[CRIT] Refused for a reason.")
        let (processed, cursor, sideEffect, outbox) = try await store.read { tx in
            (try tx.wasProcessed(platform: "test", messageID: "1"), try tx.cursor(platform: "test"),
             try tx.cursor(platform: "side-effect"), try tx.pendingOutbox(platform: "test").count)
        }
        #expect(processed)
        #expect(cursor == "c1")
        #expect(sideEffect == nil, "the handler's own writes are rolled back")
        #expect(outbox == 1)
        let again = await dispatcher.handle(message("/refuse", id: "1"), delivery: .init(cursor: "c1", enqueue: true))
        #expect(again == nil, "a redelivered message is not handled twice")
    }

    @Test func rolesMentionsAndNonCommands() async throws {
        let refused = await dispatcher.handle(message("/zap", id: "2"))
        #expect(refused.map { TextRenderer().render($0) }?.contains("needs the operator role") == true)
        #expect(await dispatcher.handle(message("/zap@OtherBot", id: "3")) == nil)
        #expect(await dispatcher.handle(message("/refuse@triagebot", id: "4")) != nil)
        #expect(await dispatcher.handle(message("hello there", id: "5"), delivery: .init(cursor: "c5")) == nil)
        let cursor = try await store.read { tx in try tx.cursor(platform: "test") }
        #expect(cursor == "c5", "the cursor advances past messages that are not commands")
        let unknown = await dispatcher.handle(message("/refuze", id: "6"))
        #expect(unknown.map { TextRenderer().render($0) }?.contains("Did you mean /refuse?") == true)
    }
}
