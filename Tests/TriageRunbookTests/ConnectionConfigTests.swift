import Foundation
import Testing
@testable import TriageRuntime
@testable import TriageRunbook
import TriageHandlers
import TriageChat
import TriageTesting
import TriageCore
@testable import TriagePostgres

/// Connection strings in the config: checked before libpq sees them, never echoed; the
/// action connection; what `check-config` learns from the server.
@Suite struct ConnectionConfigTests {
    static let secret = "Leak_cfg_PW"

    static func parse(_ yaml: String, env: [String: String] = [:]) throws -> TriageConfig {
        try TriageConfig.parse(yaml, file: "t.yaml", environment: env)
    }

    @Test func aMalformedURLIsRefusedWithItsLineAndNeverShown() throws {
        let cases: [(String, [String: String], String)] = [
            ("databases:\n  - name: main\n    url: postgresql://app:\(Self.secret)%zz@db/x\n", [:], "t.yaml:3:"),
            ("databases:\n  - name: main\n    url_env: MAIN_URL\n", ["MAIN_URL": "postgresql://app:\(Self.secret)%4@db/x"], "t.yaml:3:"),
            ("databases:\n  - name: main\n    url: postgresql:///x\n    action_url_env: ACT\n", ["ACT": "postgresql://app:\(Self.secret)@d@b/x"], "t.yaml:4:"),
            ("databases:\n  - name: main\n    url: \"host=db password='\(Self.secret)\"\n", [:], "t.yaml:3:"),
            ("timeline: t.sqlite\n", ["DATABASE_URL": "postgresql://app:\(Self.secret)%g1@db/x"], "DATABASE_URL"),
        ]
        for (yaml, env, where_) in cases {
            do {
                _ = try Self.parse(yaml, env: env)
                Issue.record("accepted: \(yaml)")
            } catch let e as ConfigError {
                #expect(e.description.contains(where_), "\(e.description)")
                #expect(!e.description.contains(Self.secret), "\(e.description)")
                #expect(!e.description.contains("db/x"), "\(e.description)")
            }
        }
    }

    @Test func actionsGetTheirOwnURLOrRole() throws {
        let c = try Self.parse("databases:\n  - name: main\n    url: postgresql://mon@db/x\n    action_url_env: ACT\n  - name: r\n    url: postgresql://mon@db/y\n    action_role: triage_act\n",
                               env: ["ACT": "postgresql://admin@db/x"])
        #expect(c.databases[0].actionConnectionString == "postgresql://admin@db/x")
        #expect(c.databases[0].forActions.connectionString == "postgresql://admin@db/x")
        #expect(c.databases[1].actionRole == "triage_act")
        #expect(c.databases[1].forActions.connectionString == "postgresql://mon@db/y")
        #expect(throws: ConfigError.self) {
            try Self.parse("databases:\n  - url: postgresql://mon@db/x\n    action_url: postgresql://a@db/x\n    action_role: r\n")
        }
    }

    @Test func libpqNeverSeesAMalformedString() async throws {
        let client = PostgresClient(targets: [PostgresTarget(name: "main", connectionString: "postgresql://app:\(Self.secret)%zz@127.0.0.1:1/x")],
                                    logger: TestEnvironment.logger)
        do {
            _ = try await client.run([SQLStatement("SELECT 1")], on: nil, mode: .readOnly)
            Issue.record("connected")
        } catch let e as PostgresError {
            #expect(e.description.contains("malformed"), "\(e.description)")
            #expect(!e.debugDescription.contains(Self.secret))
        }
        await client.close()
    }
}

@Suite(.enabled(if: TestEnvironment.hasPostgres && TestEnvironment.hasBinary))
struct CheckConfigPrivilegeTests {
    @Test func checkConfigRefusesABadEscapeAndNeverEchoesIt() async throws {
        let dir = TestEnvironment.scratch("badurl")
        let bad = dir.appendingPathComponent("bad.yaml")
        try "# databases\ndatabases:\n  - name: main\n    url: postgresql://app:Leak_bin_PW%zz@127.0.0.1:5432/x\n".write(to: bad, atomically: true, encoding: .utf8)
        let out = try await ProcessRunner.run(TestEnvironment.binary!, ["check-config", "--config", bad.path], environment: [:])
        #expect(out.status == 1)
        #expect(out.stdout.contains("bad.yaml:4:"), "\(out.stdout)")
        #expect(out.stdout.contains("'%' that is not followed by two hex digits"), "\(out.stdout)")
        #expect(!(out.stdout + out.stderr).contains("Leak_bin_PW"))
        let console = try await ProcessRunner.run(TestEnvironment.binary!, ["console", "--timeline", dir.appendingPathComponent("t.sqlite").path],
                                                  input: "/pg connections\n",
                                                  environment: ["DATABASE_URL": "postgresql://app:Leak_bin_PW%zz@127.0.0.1:5432/x"])
        #expect(console.stdout.contains("malformed"), "\(console.stdout)")
        #expect(!(console.stdout + console.stderr).contains("Leak_bin_PW"))
    }

    @Test func checkConfigReportsWhatEachRoleMayDo() async throws {
        let roles = TestRoles()
        defer { roles.drop() }
        let admin = try TestEnvironment.session(TestEnvironment.postgresURL!, app: "triage-test-admin")
        defer { admin.close() }
        try admin.exec("CREATE ROLE \(roles.monitor) LOGIN IN ROLE pg_monitor")
        let url = TestEnvironment.postgresURL!
        let dir = TestEnvironment.scratch("privcheck")
        let cfg = dir.appendingPathComponent("c.yaml")
        try """
        databases:
          - name: main
            url_env: MON_URL
            action_url_env: ADMIN_URL
          - name: plain
            url_env: ADMIN_URL
        """.write(to: cfg, atomically: true, encoding: .utf8)
        let out = try await ProcessRunner.run(TestEnvironment.binary!, ["check-config", "--config", cfg.path],
                                              environment: ["MON_URL": TestEnvironment.url(url, user: roles.monitor), "ADMIN_URL": url],
                                              directory: TestEnvironment.repositoryRoot)
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        #expect(out.stdout.hasPrefix("ok:"))
        #expect(out.stdout.contains("info: database main, diagnostics: role \(roles.monitor): not a superuser; pg_monitor: yes; reads every statement's text: yes; can terminate other users' sessions: no"), "\(out.stdout)")
        #expect(out.stdout.contains("info: database main, actions: role postgres: superuser"), "\(out.stdout)")
        #expect(out.stdout.contains("warning: database plain: diagnostics run as the superuser postgres"), "\(out.stdout)")
        #expect(!out.stdout.contains("warning: database main"), "\(out.stdout)")
        let offline = try await ProcessRunner.run(TestEnvironment.binary!, ["check-config", "--offline", "--config", cfg.path],
                                                  environment: ["MON_URL": url, "ADMIN_URL": url], directory: TestEnvironment.repositoryRoot)
        #expect(offline.status == 0)
        #expect(!offline.stdout.contains("info:"))
    }
}
