import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TriageChat
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore
import TriageTesting

/// The fast path: an instant command (`/ping`) is recorded by one transaction (processed mark,
/// reply, cursor) without the arrival journal, except in the first batch after a start; other
/// commands are journaled. The outbox gets replies in memory from the commit, never one that
/// a rolled-back savepoint queued.
@Suite struct FastPathTests {
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A Triage on `chat` with a store of its own, and a second connection to that file
    /// whose trigger logs every journal entry (`journalLog`).
    static func journalLoggedApp(_ chat: MemoryChat, extra: [any FeaturePlugin] = []) async throws -> (TriageApplication, DatabaseQueue) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fast-\(UUID().uuidString).sqlite").path
        var config = TriageConfig.defaults(environment: ["DATABASE_URL": "postgresql://127.0.0.1:1/none"], timeline: path)
        config.sections["memory"] = try YAMLNode.parse("{}", file: "test.yaml")
        let plugins = PluginList(features: StandardPlugins.all.features + extra, platforms: [MemoryChatPlugin(chat: chat)])
        let app = try TriageApplication(config: config, plugins: plugins, logger: Self.quiet)
        let probe = try DatabaseQueue(path: path)
        try await probe.write { db in
            try db.execute(sql: """
                CREATE TABLE journalLog(messageID TEXT);
                CREATE TRIGGER journalLogged AFTER INSERT ON inboundEvent BEGIN INSERT INTO journalLog VALUES (new.messageID); END;
                """)
        }
        return (app, probe)
    }

    @Test func instantCommandsSkipTheJournalAndTheirCommitStoresTheCursor() async throws {
        let chat = MemoryChat(access: AccessPolicy(rooms: ["r1"], users: ["u1": .operator]))
        let (app, probe) = try await Self.journalLoggedApp(chat)
        let group = ServiceGroup(configuration: .init(services: app.botServices().map { .init(service: $0) }, logger: Self.quiet))
        let running = Task { try await group.run() }
        chat.push("/ping", room: "r1", from: "u1")                     // 1: the first batch, journaled whole
        _ = await chat.waitForReplies(1, timeout: 60)
        chat.push("/ping", room: "r1", from: "u1")                     // 2: instant
        _ = await chat.waitForReplies(2, timeout: 60)
        chat.push("/help pg idle", room: "r1", from: "u1")             // 3: instant
        chat.push("/incident open sev3 \"x\"", room: "r1", from: "u1") // 4: journaled
        chat.push("/pingg", room: "r1", from: "u1")                    // 5: a usage error, instant
        let replies = await chat.waitForReplies(5, timeout: 60)
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        await app.shutdown()
        #expect(replies.count == 5)
        #expect(replies.contains { $0.replyTo == "5" && TextRenderer().render($0.reply).contains("/ping") })
        let journaled = try await probe.read { db in try String.fetchAll(db, sql: "SELECT messageID FROM journalLog ORDER BY rowid") }
        #expect(journaled == ["1", "4"])
        let (cursor, processed) = try await app.store.read { tx in
            (try tx.cursor(platform: "memory"), try (1...5).allSatisfy { try tx.wasProcessed(platform: "memory", messageID: "\($0)") })
        }
        #expect(cursor == "5")
        #expect(processed)
    }

    /// An instant command that is not recorded within the poller's wait is journaled before
    /// the next poll acknowledges it (a crash then retries it instead of losing it), and its
    /// handling commit finishes that entry. Without the late journal the poll would move past
    /// a command nothing had recorded.
    @Test func aSlowInstantCommandIsJournaledBeforeThePollMovesPastIt() async throws {
        let chat = MemoryChat(access: AccessPolicy(rooms: ["r1", "r2"], users: ["u1": .operator]))
        let release = ReleaseFlag()
        let (app, probe) = try await Self.journalLoggedApp(chat, extra: [SlowInstantPlugin(release: release)])
        let group = ServiceGroup(configuration: .init(services: app.botServices().map { .init(service: $0) }, logger: Self.quiet))
        let running = Task { try await group.run() }
        chat.push("/ping", room: "r1", from: "u1")                     // 1: the first batch, journaled whole
        _ = await chat.waitForReplies(1, timeout: 60)
        chat.push("/slow-instant", room: "r1", from: "u1")             // 2: instant, held
        try await Task.sleep(nanoseconds: 2_600_000_000)                // past the poller's 2 s wait
        chat.push("/ping", room: "r2", from: "u1")                     // 3: polled meanwhile
        let whileHeld = await chat.waitForReplies(2, timeout: 60)
        let heldJournal = try await probe.read { db in
            try String.fetchAll(db, sql: "SELECT messageID FROM inboundEvent WHERE status = 'started' ORDER BY rowid")
        }
        release.value.store(true, ordering: .releasing)
        let replies = await chat.waitForReplies(3, timeout: 60)
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        await app.shutdown()
        #expect(whileHeld.map(\.replyTo) == ["1", "3"])               // the held command did not hold the poll
        #expect(heldJournal == ["2"])                                  // a crash now would retry it
        #expect(replies.map(\.replyTo) == ["1", "3", "2"])
        let (journaled, left) = try await probe.read { db in
            (try String.fetchAll(db, sql: "SELECT messageID FROM journalLog ORDER BY rowid"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM inboundEvent WHERE status = 'started'") ?? -1)
        }
        #expect(journaled == ["1", "2"])
        #expect(left == 0)                                             // its commit finished the entry
        let cursor = try await app.store.read { tx in try tx.cursor(platform: "memory") }
        #expect(cursor == "3")
    }

    @Test func aReplyQueuedInARolledBackSavepointIsNeverSent() async throws {
        let store = try TemporaryStore.make()
        let sink = PartSink(parts: 1)
        let outbox = OutboxService(platform: sink, store: store, logger: Self.quiet, drainTimeout: 0.2)
        let group = ServiceGroup(configuration: .init(services: [.init(service: outbox)], logger: Self.quiet))
        let running = Task { try await group.run() }
        // Let the outbox start and listen before anything is queued (the hand-over is in memory).
        try await Task.sleep(nanoseconds: 200_000_000)
        struct Refusal: Error {}
        let phantom = try OutboxMessage(platform: "parts", room: "r1", replyTo: nil, key: "phantom",
                                        reply: Reply(blocks: [.text("undone")]), createdAt: Date())
        let real = try OutboxMessage(platform: "parts", room: "r1", replyTo: nil, key: "real",
                                     reply: Reply(blocks: [.text("kept")]), createdAt: Date())
        try await store.write { tx in
            do {
                try tx.attempt {
                    _ = try tx.enqueue(phantom)
                    throw Refusal()
                }
            } catch is Refusal {}
            _ = try tx.enqueue(real)
        }
        _ = await sink.waitForDelivered(1)
        try await Task.sleep(nanoseconds: 300_000_000)   // a phantom would follow at once
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        #expect(sink.delivered == ["real#0"])
        let sent = try await store.read { tx in try tx.sentMessageIDs(platform: "parts", key: "real") }
        #expect(sent == ["real/0"])
    }
}

/// `/slow-instant`: declared instant, and held until the test releases it.
struct SlowInstantPlugin: FeaturePlugin {
    let release: ReleaseFlag
    var name: String { "slow-instant" }
    var sections: [String] { [] }

    func makeFeature(_ context: FeatureContext) throws -> FeatureParts {
        FeatureParts(handlers: [Handler(release: release)])
    }

    struct Handler: CommandHandler {
        let release: ReleaseFlag
        var declarations: [CommandDeclaration] {
            var d = CommandDeclaration(words: ["slow-instant"], summary: "Answers once released (tests only).")
            d.instant = true
            return [d]
        }
        func handle(_ context: CommandContext) async throws -> CommandOutcome {
            while !release.value.load(ordering: .acquiring) { try await Task.sleep(nanoseconds: 20_000_000) }
            return CommandOutcome(reply: .text("released"))
        }
    }
}

final class ReleaseFlag: Sendable {
    let value = Atomic<Bool>(false)
}
