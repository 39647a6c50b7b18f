import Foundation
import Testing
import TriageCore
@testable import TriageMatrix

@Suite struct MatrixConfigTests {
    func parse(_ yaml: String, env: [String: String] = ["PW": "secret"]) throws -> MatrixConfig {
        let root = try YAMLNode.parse(yaml, file: "t.yaml")
        return try MatrixConfig.parse(root["matrix"]!, defaultRole: .viewer, environment: env)
    }

    @Test func readsEveryKey() throws {
        let c = try parse("""
            matrix:
              homeserver: https://matrix.example.org/
              user_id: "@triage:example.org"
              password_env: PW
              device_name: Triage prod
              rooms: ["!abc:example.org", "!v12roomid"]
              users: {"@alice:example.org": operator, "@bob:example.org": viewer}
              default_role: none
              sync_timeout: 45s
              timeline_limit: 20
              command_prefixes: ["!"]
            """)
        #expect(c.homeserver == "https://matrix.example.org")
        #expect(c.password == "secret" && c.accessToken == nil)
        #expect(c.rooms == ["!abc:example.org", "!v12roomid"])
        #expect(c.role(of: "@alice:example.org") == .operator)
        #expect(c.role(of: "@zed:example.org") == nil)
        #expect(c.syncTimeout == 45 && c.timelineLimit == 20 && c.commandPrefixes == ["!"] && c.deviceName == "Triage prod")
    }

    @Test func defaultsFromTheTopLevelRole() throws {
        let c = try parse("""
            matrix: {homeserver: "http://127.0.0.1:8008", user_id: "@b:hs", access_token_env: PW, rooms: ["!r:hs"], sync_timeout: 5}
            """)
        #expect(c.role(of: "@anyone:hs") == .viewer)
        #expect(c.accessToken == "secret" && c.syncTimeout == 5 && c.commandPrefixes == ["/", "!"])
    }

    @Test func reportsProblemsWithTheirLine() {
        func problem(_ yaml: String, env: [String: String] = ["PW": "secret"]) -> String {
            do { _ = try parse(yaml, env: env); return "" } catch { return "\(error)" }
        }
        #expect(problem("matrix:\n  homeserver: x\n  user_id: \"@b:hs\"\n  password_env: PW\n  rooms: [\"!r\"]\n")
            .contains("t.yaml:2: matrix.homeserver: expected an http(s) URL"))
        #expect(problem("matrix:\n  homeserver: http://h\n  user_id: \"@b:hs\"\n  password_env: NOPE\n  rooms: [\"!r\"]\n")
            .contains("environment variable NOPE is not set"))
        #expect(problem("matrix:\n  homeserver: http://h\n  user_id: \"@b:hs\"\n  password_env: PW\n  rooms: [\"#ops:hs\"]\n")
            .contains("not an alias"))
        #expect(problem("matrix:\n  homeserver: http://h\n  user_id: \"@b:hs\"\n  password_env: PW\n  room: [\"!r\"]\n")
            .contains("unknown key 'room' (did you mean 'rooms'?)"))
        #expect(problem("matrix:\n  homeserver: http://h\n  user_id: \"@b:hs\"\n  password_env: PW\n  rooms: [\"!r\"]\n  users: {\"@a:hs\": admin}\n")
            .contains("role must be viewer, responder or operator"))
        #expect(problem("matrix:\n  homeserver: http://h\n  user_id: b\n  password_env: PW\n  rooms: [\"!r\"]\n")
            .contains("full Matrix user id"))
        #expect(problem("matrix:\n  homeserver: http://h\n  user_id: \"@b:hs\"\n  rooms: [\"!r\"]\n")
            .contains("give password_env or access_token_env"))
    }
}
