import Foundation
import GRDB
import Logging
import ServiceLifecycle
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

    @Test func instantCommandsSkipTheJournalAndTheirCommitStoresTheCursor() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fast-\(UUID().uuidString).sqlite").path
        var config = TriageConfig.defaults(environment: ["DATABASE_URL": "postgresql://127.0.0.1:1/none"], timeline: path)
        config.sections["memory"] = try YAMLNode.parse("{}", file: "test.yaml")
        let chat = MemoryChat(access: AccessPolicy(rooms: ["r1"], users: ["u1": .operator]))
        let plugins = PluginList(features: StandardPlugins.all.features, platforms: [MemoryChatPlugin(chat: chat)])
        let app = try TriageApplication(config: config, plugins: plugins, logger: Self.quiet)
        // Every journal entry and every cursor write is logged by triggers in the same file.
        let probe = try DatabaseQueue(path: path)
        try await probe.write { db in
            try db.execute(sql: """
                CREATE TABLE journalLog(messageID TEXT);
                CREATE TRIGGER journalLogged AFTER INSERT ON inboundEvent BEGIN INSERT INTO journalLog VALUES (new.messageID); END;
                """)
        }
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
