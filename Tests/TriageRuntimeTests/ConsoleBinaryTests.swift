import Foundation
import Testing
import TriageTesting

/// End to end through the built `triage` binary: a script piped into `triage console`, and
/// `triage check-config` on good and bad files.
@Suite(.enabled(if: TestEnvironment.hasPostgres && TestEnvironment.hasBinary))
struct ConsoleBinaryTests {
    @Test func scriptThroughThePipe() async throws {
        let dir = TestEnvironment.scratch("console")
        let timeline = dir.appendingPathComponent("t.sqlite").path
        let script = """
        /ping
        /pg connections
        /pg conections
        /pg idle --older soon
        /incident open sev1 "Primary DB at 100% connections"
        /pg idle --older 0s
        /note killed the reporting job
        /timeline
        /resolve
        """
        let out = try await ProcessRunner.run(TestEnvironment.binary!, ["console", "--timeline", timeline], input: script,
                                        environment: ["DATABASE_URL": TestEnvironment.postgresURL!],
                                        directory: TestEnvironment.repositoryRoot)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("pong: Triage"))
        #expect(out.stdout.contains("max_connections"))
        #expect(out.stdout.contains("Did you mean /pg connections?"))
        #expect(out.stdout.contains("usage: /pg idle [--older DURATION]"))
        #expect(out.stdout.contains("Incident #1 opened"))
        #expect(out.stdout.contains("Noted in incident #1"))
        #expect(out.stdout.contains("Incident #1 resolved"))

        let list = try await ProcessRunner.run(TestEnvironment.binary!, ["incidents", "--timeline", timeline])
        #expect(list.stdout.contains("Primary DB at 100% connections"), "\(list.stdout)")
        let timelineOut = try await ProcessRunner.run(TestEnvironment.binary!, ["timeline", "1", "--timeline", timeline])
        #expect(timelineOut.stdout.contains("/pg idle --older 0s"), "\(timelineOut.stdout)")
        #expect(timelineOut.stdout.contains("killed the reporting job"))
        #expect(timelineOut.stdout.contains(" UTC"))
        let missing = try await ProcessRunner.run(TestEnvironment.binary!, ["timeline", "99", "--timeline", timeline])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("No incident #99"))
    }

    @Test func checkConfigPointsAtFileAndLine() async throws {
        let dir = TestEnvironment.scratch("check")
        let good = try await ProcessRunner.run(TestEnvironment.binary!, ["check-config", "--config",
                                                                  TestEnvironment.repositoryRoot.appendingPathComponent("config/console.example.yaml").path],
                                         environment: ["DATABASE_URL": TestEnvironment.postgresURL!, "REPLICA_DATABASE_URL": TestEnvironment.postgresURL!],
                                         directory: TestEnvironment.repositoryRoot)
        #expect(good.status == 0, "\(good.stdout) \(good.stderr)")
        #expect(good.stdout.hasPrefix("ok:"))

        let bad = dir.appendingPathComponent("bad.yaml")
        try """
        databases:
          - name: main
            url_env: DATABASE_URL
            statment_timeout: 5s
        """.write(to: bad, atomically: true, encoding: .utf8)
        let out = try await ProcessRunner.run(TestEnvironment.binary!, ["check-config", "--config", bad.path],
                                        environment: ["DATABASE_URL": "postgresql:///x"], directory: TestEnvironment.repositoryRoot)
        #expect(out.status == 1)
        #expect(out.stdout.contains("bad.yaml:4:"), "\(out.stdout)")
        #expect(out.stdout.contains("did you mean 'statement_timeout'"), "\(out.stdout)")

        let cmds = dir.appendingPathComponent("commands")
        try FileManager.default.createDirectory(at: cmds, withIntermediateDirectories: true)
        try "section: X\ncommands:\n  - name: pg x\n    summary: x\n    steps:\n      - sql: SELECT $1\n".write(to: cmds.appendingPathComponent("x.yaml"), atomically: true, encoding: .utf8)
        let cfg = dir.appendingPathComponent("c.yaml")
        try "commands: \(cmds.path)\n".write(to: cfg, atomically: true, encoding: .utf8)
        let out2 = try await ProcessRunner.run(TestEnvironment.binary!, ["check-config", "--config", cfg.path],
                                         environment: ["DATABASE_URL": "postgresql:///x"])
        #expect(out2.status == 1)
        #expect(out2.stdout.contains("x.yaml:6:"), "\(out2.stdout)")

        // A YAML command named like a built-in is an error with file and line.
        let clash = dir.appendingPathComponent("clash")
        try FileManager.default.createDirectory(at: clash, withIntermediateDirectories: true)
        try "section: X\ncommands:\n  - name: pg health\n    summary: x\n    steps:\n      - sql: SELECT 1 AS one\n"
            .write(to: clash.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8)
        try "commands: \(clash.path)\n".write(to: cfg, atomically: true, encoding: .utf8)
        let out3 = try await ProcessRunner.run(TestEnvironment.binary!, ["check-config", "--config", cfg.path],
                                               environment: ["DATABASE_URL": "postgresql:///x"])
        #expect(out3.status == 1)
        #expect(out3.stdout.contains("site.yaml:3: command 'pg health' is already declared"), "\(out3.stdout)")
    }

    @Test func malformedCommandFilesDoNotStopTheConsole() async throws {
        let dir = TestEnvironment.scratch("badcmds")
        let cmds = dir.appendingPathComponent("commands")
        try FileManager.default.createDirectory(at: cmds, withIntermediateDirectories: true)
        try "section: [broken\n".write(to: cmds.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        let out = try await ProcessRunner.run(TestEnvironment.binary!, ["console", "--timeline", dir.appendingPathComponent("t.sqlite").path],
                                        input: "/ping\n",
                                        environment: ["DATABASE_URL": TestEnvironment.postgresURL!, "TRIAGE_COMMANDS": cmds.path])
        #expect(out.status == 0)
        #expect(out.stdout.contains("pong"))
        #expect(out.stderr.contains("broken.yaml:"), "\(out.stderr)")
    }
}
