import Foundation
import Logging
import Synchronization
import Testing
import TriageChat
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore

/// Taps on [Confirm] [Cancel]: the dispatcher's confirmation stage, reached by a button.
@Suite final class ButtonTapTests: Sendable {
    /// What happened, in order: answers, edits and action runs.
    final class Log: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ s: String) { lines.withLock { $0.append(s) } }
        var all: [String] { lines.withLock { $0 } }
    }

    struct Sink: ChatSink {
        let log: Log
        var name: String { "matrix" }
        func send(_ message: OutgoingMessage, part: Int) async throws -> [String] { [] }
        func answer(_ tap: ButtonTap, with answer: TapAnswer) async throws {
            log.add("answer\(answer.alert ? "!" : ""): \(answer.text)")
        }
        func edit(room: String, messageID: String, reply: Reply) async throws {
            log.add("edit \(messageID): \(reply.title ?? "")" + (reply.buttons == nil ? "" : " +buttons"))
        }
    }

    /// An action that takes a moment and logs when it runs.
    final class Slow: ActionHandler {
        let log: Log
        init(log: Log) { self.log = log }
        var declarations: [CommandDeclaration] {
            [CommandDeclaration(words: ["slow"], summary: "Takes a moment.", kind: .action, role: .operator, confirmations: 1)]
        }
        func handle(_ context: CommandContext) async throws -> CommandOutcome { CommandOutcome(reply: .text("unreachable")) }
        func preview(_ context: CommandContext) async throws -> ActionPreview {
            ActionPreview(blocks: [.text("would be slow")], summary: "slow")
        }
        func execute(_ context: CommandContext, captured: [String: [String?]], target: String?) async throws -> ActionResult {
            log.add("execute by \(context.message.sender)")
            try await Task.sleep(nanoseconds: 200_000_000)
            return ActionResult(blocks: [], summary: "slept")
        }
    }

    let log = Log()
    let store: BotStore
    let dispatcher: Dispatcher
    let counter = Mutex(0)

    init() throws {
        store = try BotStore.inMemory()
        dispatcher = Dispatcher(handlers: [Slow(log: log)], store: store,
                                logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    func preview() async throws -> (Reply, String) {
        let m = InboundMessage(platform: "matrix", room: "!ops", sender: "@alice", text: "/slow", messageID: "p", role: .operator)
        let reply = try #require(await dispatcher.handle(m))
        let data = try #require(reply.buttons?.first?.first?.data)
        return (reply, data)
    }

    func tap(_ data: String, by sender: String, role: Role = .operator) async -> Reply? {
        let n = counter.withLock { $0 += 1; return $0 }
        let m = InboundMessage(platform: "matrix", room: "!ops", sender: sender, text: "", messageID: "tap\(n)", role: role,
                               tap: ButtonTap(data: data, callbackID: "q\(n)", messageID: "$preview"))
        return await dispatcher.handle(m, delivery: Dispatcher.Delivery(sink: Sink(log: log)))
    }

    /// The status of the action a button's data names.
    func status(_ data: String) async throws -> String? {
        let token = String(data.dropFirst(2))
        return try await store.read { tx in try tx.pendingAction(token: token)?.status.rawValue }
    }

    @Test func previewButtonsCarryOnlyTheToken() async throws {
        let (reply, data) = try await preview()
        let token = try #require(reply.summary?.components(separatedBy: "/confirm ").last)
        #expect(reply.buttons?.first?.map(\.data) == ["c:\(token)", "x:\(token)"])
        #expect(reply.buttons?.first?.map(\.emoji) == ["✅", "❌"])
        #expect(data.utf8.count <= ReplyButton.maxDataBytes && !data.contains("slow"))
    }

    @Test func aTapIsAnsweredBeforeTheActionRunsAndTheMessageShowsTheDecision() async throws {
        let (_, data) = try await preview()
        let done = await tap(data, by: "@bob")
        #expect(done?.title == "Done: /slow")
        let lines = log.all
        #expect(lines.first == "answer: Confirmed: running /slow.")
        #expect(lines.firstIndex(of: "edit $preview: Running (confirmed): /slow") ?? 99 < lines.firstIndex(of: "execute by @bob") ?? -1)
        #expect(lines.last == "edit $preview: Done: /slow")
        #expect(lines.filter { $0.hasPrefix("answer") }.count == 1)
        #expect(try await status(data) == "done")
    }

    @Test func aViewersTapIsRefusedWithAnAlertAndRunsNothing() async throws {
        let (_, data) = try await preview()
        let reply = await tap(data, by: "@vic", role: .viewer)
        #expect(reply == nil)
        #expect(log.all == ["answer!: Only someone with the operator role may confirm this; you are a viewer. Nothing was done."])
        #expect(try await status(data) == "pending")
    }

    @Test func forgedOrCommandLikeDataIsRefused() async throws {
        let (_, data) = try await preview()
        for data in ["/slow", "c:", "c:../../x", "z:abcdefgh", String(repeating: "c", count: 200)] {
            #expect(await tap(data, by: "@alice") == nil)
        }
        #expect(log.all.allSatisfy { $0.hasPrefix("answer!:") } && log.all.count == 5)
        #expect(try await status(data) == "pending")
    }

    @Test func twoPeopleRacingOnOneButtonRunItOnce() async throws {
        let (_, data) = try await preview()
        async let a = tap(data, by: "@alice")
        async let b = tap(data, by: "@bob")
        let replies = await [a, b]
        let lines = log.all
        #expect(lines.filter { $0.hasPrefix("execute") }.count == 1)
        #expect(lines.filter { $0.hasPrefix("answer: Confirmed") }.count == 1)
        #expect(lines.filter { $0.hasPrefix("answer: Already running") }.count == 1)
        #expect(replies.compactMap { $0?.title }.filter { $0 == "Done: /slow" }.count == 1)
        #expect(!lines.contains { $0.contains("Interrupted") })
        #expect(try await status(data) == "done")
    }

    @Test func cancelThenAStaleConfirmRunsNothing() async throws {
        let (reply, confirm) = try await preview()
        let cancel = try #require(reply.buttons?.first?.last?.data)
        _ = await tap(cancel, by: "@bob")
        _ = await tap(confirm, by: "@alice")
        let lines = log.all
        #expect(lines.contains("answer: Cancelled; nothing was run."))
        #expect(lines.contains("edit $preview: Cancelled: /slow"))
        #expect(lines.contains { $0.hasPrefix("answer: Already cancelled (cancelled by @bob)") })
        #expect(!lines.contains { $0.hasPrefix("execute") })
        #expect(try await status(confirm) == "cancelled")
    }
}
