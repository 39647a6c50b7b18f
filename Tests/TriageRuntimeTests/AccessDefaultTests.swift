import Foundation
import Logging
import Testing
import TriageChat
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore
import TriageTesting

/// No code path grants a role the config does not write down.
@Suite struct AccessDefaultTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let environment = ["DATABASE_URL": "postgresql://127.0.0.1:1/none", "BOT_PW": "secret",
                              "TG_TOKEN": "123:abcDEF"]

    func app(_ yaml: String) throws -> TriageApplication {
        let config = try TriageConfig.parse(yaml, file: "triage.yaml", environment: Self.environment)
        return try TriageApplication(config: config, plugins: StandardPlugins.all, logger: Self.logger,
                                     environment: Self.environment, store: try BotStore.inMemory())
    }

    func say(_ app: TriageApplication, _ text: String, platform: String, sender: String, n: Int) async -> String? {
        guard let parts = app.platforms.first(where: { $0.platform.name == platform }) else { return nil }
        guard let role = parts.access.role(of: sender) else { return nil }   // what the platform does: no role, no message
        let m = InboundMessage(platform: platform, room: parts.access.rooms.first ?? "", sender: sender, text: text,
                               messageID: "\(n)", role: role)
        return await app.dispatcher.handle(m).map { TextRenderer().render($0) }
    }

    @Test func withoutARolesKeyAnUnlistedMatrixMemberGetsNothing() async throws {
        let app = try app("""
        matrix:
          homeserver: http://127.0.0.1:1
          user_id: "@bot:localhost"
          password_env: BOT_PW
          rooms: ["!ops:localhost"]
          users: {"@alice:localhost": operator}
        """)
        defer { app.http.shutdown() }
        let matrix = try #require(app.platforms.first)
        #expect(matrix.access.role(of: "@carol:localhost") == nil)
        #expect(matrix.access.role(of: "@alice:localhost") == .operator)
        #expect(await say(app, "/pg terminate 4242", platform: "matrix", sender: "@carol:localhost", n: 1) == nil)
        #expect(await say(app, "/confirm abcdefgh", platform: "matrix", sender: "@carol:localhost", n: 2) == nil)
    }

    @Test func noConfigFileGrantsNobody() {
        #expect(TriageConfig.defaults(environment: [:]).defaultRole == nil)
    }

    @Test func telegramUsesRolesDefaultForDiagnosticsOnly() async throws {
        let app = try app("""
        roles: {default: viewer}
        telegram:
          token_env: TG_TOKEN
          api_url: http://127.0.0.1:1
          chats: [-100]
          users: {"42": operator}
        """)
        defer { app.http.shutdown() }
        let telegram = try #require(app.platforms.first)
        #expect(telegram.access.role(of: "999") == .viewer)
        #expect(telegram.access.role(of: "42") == .operator)
        let help = try #require(await say(app, "/help", platform: "telegram", sender: "999", n: 1))
        #expect(help.contains("/pg connections"))
        #expect(!help.contains("/pg terminate"))
        let action = try #require(await say(app, "/pg terminate 4242", platform: "telegram", sender: "999", n: 2))
        #expect(action.contains("needs the operator role") && !action.contains("/confirm"))
        let confirm = try #require(await say(app, "/confirm abcdefgh", platform: "telegram", sender: "999", n: 3))
        #expect(confirm.contains("needs the operator role"))
    }

    @Test func platformSectionCanTurnTheDefaultOff() throws {
        let app = try app("""
        roles: {default: viewer}
        telegram:
          token_env: TG_TOKEN
          api_url: http://127.0.0.1:1
          chats: [-100]
          default_role: none
        """)
        defer { app.http.shutdown() }
        #expect(app.platforms.first?.access.role(of: "999") == nil)
    }
}
