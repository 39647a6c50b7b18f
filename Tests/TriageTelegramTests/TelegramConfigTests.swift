import Foundation
import Testing
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageCore
@testable import TriageTelegram

@Suite struct TelegramConfigTests {
    func parse(_ yaml: String, env: [String: String] = ["TOK": "123:abc-DEF_g"], inherited: Role? = nil) throws -> TelegramConfig {
        try TelegramConfig.parse(try YAMLNode.parse(yaml, file: "t.yaml"), defaultRole: inherited, environment: env)
    }

    @Test func readsEveryKey() throws {
        let c = try parse("""
        token_env: TOK
        api_url: http://127.0.0.1:8081/
        bot_username: "@triage_bot"
        poll_timeout: 20
        chats: [-1001, 42]
        users: {"42": operator, "7": viewer}
        default_role: viewer
        connect_timeout: 3
        request_timeout: 9
        send_timeout: 40
        rate_limit: {chat_interval: 0.5, group_per_minute: 10}
        register_commands: false
        """)
        #expect(c.token == "123:abc-DEF_g" && c.apiURL == "http://127.0.0.1:8081")
        #expect(c.botUsername == "triage_bot" && c.pollTimeout == 20)
        #expect(c.chats == [-1001, 42])
        #expect(c.access.role(of: "42") == .operator && c.access.role(of: "99") == .viewer)
        #expect(c.chatInterval == 0.5 && c.groupPerMinute == 10 && !c.registerCommands)
        #expect(c.requestTimeout == 9 && c.sendTimeout == 40)
    }

    @Test func defaultsAreSafe() throws {
        let c = try parse("token_env: TOK\nchats: [1]")
        #expect(c.apiURL == "https://api.telegram.org" && c.pollTimeout == 50)
        // A send may take longer than the longest poll before it is given up on (and resent).
        #expect(c.sendTimeout > Double(c.pollTimeout) + TelegramAPI.pollGrace)
        #expect(c.access.role(of: "5") == nil)
    }

    @Test func problemsNameTheKey() {
        #expect(throws: ConfigError.self) { try parse("token_env: MISSING\nchats: [1]") }
        #expect { try parse("token_env: TOK\nchats: [1]\npoll_timeout: 90") } throws: { "\($0)".contains("poll_timeout") }
        #expect { try parse("token_env: TOK\nchats: []") } throws: { "\($0)".contains("chats") }
        #expect { try parse("token_env: TOK\nchats: [1]\nchat: [2]") } throws: { "\($0)".contains("did you mean 'chats'") }
        #expect { try parse("token_env: MISSING\nchats: [1]") } throws: { "\($0)".contains("telegram.token_env") }
    }
}
