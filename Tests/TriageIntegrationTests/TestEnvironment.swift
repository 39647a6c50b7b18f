import Foundation
import Logging
@testable import TriagePostgres
import TriageCore

/// Where the test servers are: set by scripts/test.sh.
enum TestEnvironment {
    static let env = ProcessInfo.processInfo.environment
    static var postgresURL: String? { env["TRIAGE_TEST_PG_URL"] }
    static var hasPostgres: Bool { postgresURL != nil }
    static var binary: String? { env["TRIAGE_BINARY"] }
    static var hasBinary: Bool { binary.map { FileManager.default.isExecutableFile(atPath: $0) } ?? false }
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var commandsDirectory: String { repositoryRoot.appendingPathComponent("commands").path }

    static func scratch(_ name: String) -> URL {
        let base = env["TRIAGE_TEST_WORK"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        let dir = base.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static let logger: Logger = {
        var l = Logger(label: "triage-tests")
        l.logLevel = .warning
        return l
    }()

    /// Creates a fresh database for one suite and returns its URL.
    static func freshDatabase(_ prefix: String) throws -> String {
        let base = postgresURL!
        let name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try PostgresConnection(target: PostgresTarget(name: "admin", connectionString: base, applicationName: "triage-test-admin"))
        _ = try admin.execute("CREATE DATABASE \(try admin.quoteIdentifier(name))")
        return replaceDatabase(in: base, with: name)
    }

    /// `postgresql://host:port/old` → `postgresql://host:port/name`
    static func replaceDatabase(in url: String, with name: String) -> String {
        guard let slash = url.range(of: "/", options: .backwards) else { return url }
        return String(url[..<slash.upperBound]) + name
    }

    /// A plain libpq session for inducing conditions (idle sessions, locks).
    static func session(_ url: String, app: String) throws -> PostgresConnection {
        try PostgresConnection(target: PostgresTarget(name: "induce", connectionString: url, applicationName: app))
    }
}
