import Foundation
import Logging
import Testing
import TriageChat
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore
import TriageTesting

/// `/help` as each role sees it, generated from the declarations of every plug-in and
/// `commands/*.yaml`, against golden files.
@Suite struct HelpGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let commands = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("commands").path

    @Test(arguments: [Role.viewer, Role.operator])
    func helpMatchesTheGoldenFile(_ role: Role) async throws {
        var config = TriageConfig.defaults(environment: ["DATABASE_URL": "postgresql://127.0.0.1:1/none"])
        config.commandsDirectory = Self.commands
        let app = try TriageApplication(config: config, plugins: StandardPlugins.all,
                                        logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }),
                                        store: try BotStore.inMemory())
        defer { app.http.shutdown() }
        let m = InboundMessage(platform: "console", room: "console", sender: "u", text: "/help", messageID: "1", role: role)
        let reply = try #require(await app.dispatcher.handle(m))
        let text = TextRenderer().render(reply)
        #expect(GoldenFile.mismatch(text, name: "help-\(role).txt", directory: Self.directory) == nil)
        #expect(text.contains("/pg terminate") == (role == .operator))
    }
}
