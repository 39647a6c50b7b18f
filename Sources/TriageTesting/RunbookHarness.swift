import Foundation
import Logging
import Synchronization
import TriageRuntime
import TriageRunbook
import TriageIncidents
import TriageHandlers
import TriageChat
import TriageCore
import TriagePostgres
import TriageStore

/// A fresh database (one per suite instance, so one per test), a Triage application pointed
/// at it with an injected clock, and chat helpers.
package final class RunbookHarness: Sendable {
    package let url: String
    package let database: String
    package let admin: PostgresConnection
    package let app: TriageApplication
    package let clock = TestClock()
    /// Messages sent so far and the sessions to close, behind one lock.
    private let state = Mutex<(messageNumber: Int, sessions: [PostgresConnection])>((0, []))

    /// - Parameters:
    ///   - targets: the database targets for the fresh database's URL (default: one, the URL itself).
    ///   - extraTargets: more targets by name (for `--against`), after those.
    package init(suite: String, config: [String: String] = [:], targets: ((String) -> [PostgresTarget])? = nil,
         extraTargets: [String: String] = [:]) throws {
        url = try TestEnvironment.freshDatabase("triage_rb_\(suite)")
        database = TestEnvironment.databaseName(in: url)
        admin = try TestEnvironment.session(url, app: "rb-admin")
        try admin.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        let work = ProcessInfo.processInfo.environment["TRIAGE_TEST_WORK"] ?? NSTemporaryDirectory()
        var c = TriageConfig.defaults(environment: ["DATABASE_URL": url],
                                      timeline: (work as NSString).appendingPathComponent("\(database).sqlite"))
        c.commandsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("commands").path
        if let targets { c.databases = targets(url) }
        for (name, url) in extraTargets.sorted(by: { $0.key < $1.key }) {
            c.databases.append(PostgresTarget(name: name, connectionString: url))
        }
        for (key, yaml) in config {
            c.sections[key] = try YAMLNode.parse(yaml, file: "test-config")
        }
        var logger = Logger(label: "triage-test")
        logger.logLevel = .warning
        app = try TriageApplication(config: c, plugins: StandardPlugins.all, logger: logger, clock: clock)
    }

    /// Opens a session that stays open until ``shutdown()``.
    package func session(_ application: String, user: String? = nil) throws -> PostgresConnection {
        let s = try TestEnvironment.session(url, app: application, user: user)
        state.withLock { $0.sessions.append(s) }
        return s
    }

    /// Sends one chat line and returns the reply.
    package func send(_ text: String, role: Role = .operator, sender: String = "alice", room: String = "ops") async -> Reply {
        let n = state.withLock { s in s.messageNumber += 1; return s.messageNumber }
        let message = InboundMessage(platform: "test", room: room, sender: sender, senderName: "@" + sender, text: text,
                                     messageID: "m\(n)", role: role, receivedAt: clock.now)
        return await app.dispatcher.handle(message) ?? Reply()
    }

    /// The token a preview issued (from the "token" key).
    package func token(_ reply: Reply) -> String? { reply.value("token") }

    /// Polls until `condition` holds (statistics are flushed asynchronously), up to `seconds`.
    package func eventually(_ seconds: Double = 8, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(nanoseconds: 200_000_000)
        }
        return try await condition()
    }

    /// Closes every session and drops the database (synchronous, so it can run in a suite's
    /// deinit without waiting on the cooperative pool; FORCE ends Triage's own connection).
    package func shutdown() {
        for s in state.withLock({ $0.sessions }) { s.close() }
        admin.close()
        TestEnvironment.dropDatabase(url)
    }
}

extension Reply {
    /// The value of `key` in any key/value block.
    package func value(_ key: String) -> String? {
        for case .keyValues(let kvs) in blocks {
            if let kv = kvs.first(where: { $0.key == key }) { return kv.value }
        }
        return nil
    }

    /// The first table whose title starts with `title` (or the first table).
    package func table(_ title: String? = nil) -> ReplyTable? {
        for case .table(let t) in blocks where title == nil || (t.title ?? "").hasPrefix(title!) { return t }
        return nil
    }

    /// Every text, note and code block, and the title, as one string.
    package var allText: String {
        TextRenderer(maxCellWidth: 4000).render(self)
    }
}

extension ReplyTable {
    /// The cells of column `name`.
    package func column(_ name: String) -> [String] {
        guard let i = columns.firstIndex(of: name) else { return [] }
        return rows.map { $0[i].text }
    }

    /// The row whose `column` equals `value`, as column name → text.
    package func row(where column: String, is value: String) -> [String: String]? {
        guard let i = columns.firstIndex(of: column), let r = rows.first(where: { $0[i].text == value }) else { return nil }
        return Dictionary(uniqueKeysWithValues: zip(columns, r.map(\.text)))
    }
}
