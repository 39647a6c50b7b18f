import Synchronization
import Foundation
import Logging
import TriagePostgres
import TriageCore

/// Where the test servers are: set by scripts/test.sh.
package enum TestEnvironment {
    package static let env = ProcessInfo.processInfo.environment
    package static var postgresURL: String? { env["TRIAGE_TEST_PG_URL"] }
    package static var hasPostgres: Bool { postgresURL != nil }
    package static var binary: String? { env["TRIAGE_BINARY"] }
    package static var hasBinary: Bool { binary.map { FileManager.default.isExecutableFile(atPath: $0) } ?? false }
    package static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    package static var commandsDirectory: String { repositoryRoot.appendingPathComponent("commands").path }

    package static func scratch(_ name: String) -> URL {
        let base = env["TRIAGE_TEST_WORK"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        let dir = base.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    package static let logger: Logger = {
        var l = Logger(label: "triage-tests")
        l.logLevel = .warning
        return l
    }()

    /// Creates a fresh database for one suite and returns its URL.
    package static func freshDatabase(_ prefix: String) throws -> String {
        let base = postgresURL!
        let name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try session(base, app: "triage-test-admin")
        _ = try admin.execute("CREATE DATABASE \(try admin.quoteIdentifier(name))")
        return replaceDatabase(in: base, with: name)
    }

    /// Drops the database of `url`, ending its sessions (Triage's own too).
    package static func dropDatabase(_ url: String) {
        guard let admin = try? session(postgresURL!, app: "triage-test-admin"),
              let name = try? admin.quoteIdentifier(databaseName(in: url)) else { return }
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// `postgresql://host:port/old` → `postgresql://host:port/name`
    package static func replaceDatabase(in url: String, with name: String) -> String {
        guard let slash = url.range(of: "/", options: .backwards) else { return url }
        return String(url[..<slash.upperBound]) + name
    }

    /// The database name at the end of `url`.
    package static func databaseName(in url: String) -> String {
        url.range(of: "/", options: .backwards).map { String(url[$0.upperBound...]) } ?? url
    }

    /// `url` with its user replaced by `user`.
    package static func url(_ url: String, user: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.user = user
        return components.string ?? url
    }

    /// A plain libpq session, as an application would hold one, for inducing conditions (idle
    /// sessions, open transactions, lock chains): its own application_name and, optionally,
    /// user; no statement or lock timeout, so it can wait behind a lock.
    package static func session(_ url: String, app: String, user: String? = nil) throws -> PostgresConnection {
        let connection = user.map { self.url(url, user: $0) } ?? url
        return try PostgresConnection(target: PostgresTarget(name: "induce", connectionString: connection,
                                                             statementTimeoutMs: 0, lockTimeoutMs: 0, applicationName: app))
    }
}

/// Tests that hold the cluster's xmin horizon back for every database (a walsender with
/// hot_standby_feedback) and tests that need VACUUM to remove dead tuples take turns: suites
/// run in parallel on one server. `await ClusterHorizon.shared.acquire()` then
/// `defer { ClusterHorizon.shared.release() }`.
package final class ClusterHorizon: Sendable {
    package static let shared = ClusterHorizon()
    private let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    package func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { s in
                if !s.busy { s.busy = true; return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    package func release() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { s in
            if s.waiters.isEmpty { s.busy = false; return nil }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
