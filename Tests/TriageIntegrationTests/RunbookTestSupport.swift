import CLibPQ
import Foundation
import Logging
import Testing
@testable import TriageApp
import TriageCore
import TriageStore

/// Whether the real PostgreSQL of the test command is there.
let runbookPGURL = ProcessInfo.processInfo.environment["TRIAGE_TEST_PG_URL"]
let hasRunbookPG = runbookPGURL != nil

/// A raw libpq session, as an application would hold one: its own application_name and user,
/// used to induce conditions (idle sessions, open transactions, lock chains).
final class RawSession: @unchecked Sendable {
    private var conn: OpaquePointer?
    let pid: Int32

    init(url: String, database: String, application: String, user: String? = nil) throws {
        var keys = ["dbname", "dbname", "application_name"]
        var values = [url, database, application]
        if let user { keys.append("user"); values.append(user) }
        let c = Self.withCStrings(keys) { k in Self.withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let c, PQstatus(c) == CONNECTION_OK else {
            let message = c.map { String(cString: PQerrorMessage($0)) } ?? "no memory"
            if let c { PQfinish(c) }
            throw TriageError(.database, "test connection failed: \(message)")
        }
        conn = c
        pid = PQbackendPID(c)
    }

    deinit { close() }

    /// Runs `sql` and waits for it (only for statements that do not block).
    @discardableResult
    func exec(_ sql: String) throws -> [[String?]] {
        guard let conn, let r = PQexec(conn, sql) else { throw TriageError(.database, "no connection") }
        defer { PQclear(r) }
        let status = PQresultStatus(r)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw TriageError(.database, String(cString: PQresultErrorMessage(r)))
        }
        return (0..<PQntuples(r)).map { row in
            (0..<PQnfields(r)).map { col in PQgetisnull(r, row, col) == 1 ? nil : String(cString: PQgetvalue(r, row, col)) }
        }
    }

    /// Sends `sql` without waiting (for statements that block on a lock or sleep).
    func send(_ sql: String) throws {
        guard let conn, PQsendQuery(conn, sql) == 1 else { throw TriageError(.database, "send failed") }
    }

    /// Waits for the result of ``send(_:)``; returns the SQLSTATE of an error, or nil.
    func finishSent() -> String? {
        guard let conn else { return nil }
        var state: String?
        while let r = PQgetResult(conn) {
            if PQresultStatus(r) == PGRES_FATAL_ERROR, let s = PQresultErrorField(r, Int32(UInt8(ascii: "C"))) {
                state = String(cString: s)
            }
            PQclear(r)
        }
        return state
    }

    func close() {
        if let conn { PQfinish(conn) }
        conn = nil
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        pointers.append(nil)
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// A fresh database (one per suite instance, so one per test), a Triage application pointed
/// at it with an injected clock, and chat helpers.
final class RunbookHarness: @unchecked Sendable {
    let url: String
    let database: String
    let admin: RawSession
    let app: TriageApplication
    let clock = TestClock()
    private let counter = NSLock()
    private var messageNumber = 0
    private var sessions: [RawSession] = []

    init(suite: String, config: [String: String] = [:]) throws {
        let base = runbookPGURL!
        database = "triage_rb_\(suite)_\(UInt32.random(in: 0...UInt32.max))"
        let root = try RawSession(url: base, database: "postgres", application: "rb-admin")
        try root.exec("CREATE DATABASE \(database)")
        root.close()
        admin = try RawSession(url: base, database: database, application: "rb-admin")
        try admin.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        var components = URLComponents(string: base)!
        components.path = "/" + database
        url = components.string!
        let work = ProcessInfo.processInfo.environment["TRIAGE_TEST_WORK"] ?? NSTemporaryDirectory()
        var c = TriageConfig.defaults(environment: ["DATABASE_URL": url],
                                      timeline: (work as NSString).appendingPathComponent("\(database).sqlite"))
        c.commandsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("commands").path
        for (key, yaml) in config {
            c.sections[key] = try YAMLNode.parse(yaml, file: "test-config")
        }
        let clock = self.clock
        var logger = Logger(label: "triage-test")
        logger.logLevel = .warning
        app = try TriageApplication(config: c, logger: logger, now: { clock.now })
    }

    /// Opens a session that stays open until ``shutdown()``.
    func session(_ application: String, user: String? = nil) throws -> RawSession {
        let s = try RawSession(url: runbookPGURL!, database: database, application: application, user: user)
        counter.withLock { sessions.append(s) }
        return s
    }

    /// Sends one chat line and returns the reply.
    func send(_ text: String, role: Role = .operator, sender: String = "alice", room: String = "ops") async -> Reply {
        let n = counter.withLock { messageNumber += 1; return messageNumber }
        let message = InboundMessage(platform: "test", room: room, sender: sender, senderName: "@" + sender, text: text,
                                     messageID: "m\(n)", role: role, receivedAt: clock.now)
        return await app.dispatcher.handle(message) ?? Reply()
    }

    /// The token a preview issued (from the "token" key).
    func token(_ reply: Reply) -> String? { reply.value("token") }

    /// Polls until `condition` holds (statistics are flushed asynchronously), up to `seconds`.
    func eventually(_ seconds: Double = 8, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(nanoseconds: 200_000_000)
        }
        return try await condition()
    }

    /// Closes every session and drops the database (synchronous, so it can run in a suite's
    /// deinit without waiting on the cooperative pool; FORCE ends Triage's own connection).
    func shutdown() {
        for s in counter.withLock({ sessions }) { s.close() }
        admin.close()
        if let root = try? RawSession(url: runbookPGURL!, database: "postgres", application: "rb-admin") {
            _ = try? root.exec("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            root.close()
        }
    }
}

extension Reply {
    /// The value of `key` in any key/value block.
    func value(_ key: String) -> String? {
        for case .keyValues(let kvs) in blocks {
            if let kv = kvs.first(where: { $0.key == key }) { return kv.value }
        }
        return nil
    }

    /// The first table whose title starts with `title` (or the first table).
    func table(_ title: String? = nil) -> ReplyTable? {
        for case .table(let t) in blocks where title == nil || (t.title ?? "").hasPrefix(title!) { return t }
        return nil
    }

    /// Every text, note and code block, and the title, as one string.
    var allText: String {
        TextRenderer(maxCellWidth: 4000).render(self)
    }
}

extension ReplyTable {
    /// The cells of column `name`.
    func column(_ name: String) -> [String] {
        guard let i = columns.firstIndex(of: name) else { return [] }
        return rows.map { $0[i].text }
    }

    /// The row whose `column` equals `value`, as column name → text.
    func row(where column: String, is value: String) -> [String: String]? {
        guard let i = columns.firstIndex(of: column), let r = rows.first(where: { $0[i].text == value }) else { return nil }
        return Dictionary(uniqueKeysWithValues: zip(columns, r.map(\.text)))
    }
}
