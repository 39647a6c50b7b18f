import Foundation
import Logging
import ServiceLifecycle
import Testing
import TriageChat
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore
import TriageTesting

/// A platform registered only here (``MemoryChat``) is served through the real dispatcher,
/// outbox and store: a platform is one target plus one line in the plug-in list.
@Suite struct PluginPlatformTests {
    static func config(sections: [String: String] = [:]) throws -> TriageConfig {
        var c = TriageConfig.defaults(environment: ["DATABASE_URL": "postgresql://127.0.0.1:1/none"],
                                      timeline: FileManager.default.temporaryDirectory
                                        .appendingPathComponent("plugin-\(UUID().uuidString).sqlite").path)
        for (k, v) in sections { c.sections[k] = try YAMLNode.parse(v, file: "test.yaml") }
        return c
    }

    @Test func aTestOnlyPlatformReceivesAndAnswers() async throws {
        let chat = MemoryChat(access: AccessPolicy(rooms: ["r1"], users: ["u1": .viewer]))
        let plugins = PluginList(features: StandardPlugins.all.features, platforms: [MemoryChatPlugin(chat: chat)])
        let app = try TriageApplication(config: try Self.config(sections: ["memory": "{}"]), plugins: plugins,
                                        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(app.platforms.map(\.platform.name) == ["memory"])
        let group = ServiceGroup(configuration: .init(services: app.botServices().map { .init(service: $0) },
                                                      logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        let running = Task { try await group.run() }
        chat.push("/ping", room: "r1", from: "u1")
        chat.push("/ping", room: "r1", from: "stranger")    // nobody listed, no default role: no answer
        chat.push("/ping", room: "elsewhere", from: "u1")   // a room not served: no answer
        chat.push("/pg terminate 4242", room: "r1", from: "u1")   // a viewer: refused, with a reply
        let replies = await chat.waitForReplies(2, timeout: 60)
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        await app.shutdown()
        #expect(chat.started)
        #expect(replies.count == 2)
        #expect(replies.first.map { TextRenderer().render($0.reply) }?.contains("pong: Triage") == true)
        #expect(replies.first?.replyTo == "1")
        #expect(replies.last.map { TextRenderer().render($0.reply) }?.contains("needs the operator role") == true)
        // Handled exactly once, recorded with the cursor in the store.
        let (cursor, processed) = try await app.store.read { tx in
            (try tx.cursor(platform: "memory"), try tx.wasProcessed(platform: "memory", messageID: "1"))
        }
        #expect(cursor == "4" && processed)
    }
}
