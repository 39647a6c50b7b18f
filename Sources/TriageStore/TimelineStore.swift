import Foundation
import GRDB
import TriageCore

/// Triage's SQLite file: incidents, timelines, platform cursors, the outbox. WAL mode; every
/// change goes through ``write(_:)`` as one transaction.
public final class TimelineStore: Sendable {
    let pool: DatabasePool
    public let path: String

    /// Opens (or creates) the store at `path` and migrates it.
    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try StoreMigrations.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw TriageError(.config, "Cannot open the timeline store at \(path): \(error.message ?? "\(error.resultCode)")")
        }
        self.path = path
    }

    /// Runs `body` in one write transaction, off Swift's cooperative pool (GRDB's writer queue).
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await pool.write { db in try body(StoreTransaction(db: db)) }
    }

    /// Reads a consistent snapshot.
    public func read<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await pool.read { db in try body(StoreTransaction(db: db)) }
    }

    /// Synchronous variants for the command-line tools (not for async code).
    public func writeNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try pool.write { db in try body(StoreTransaction(db: db)) }
    }

    public func readNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try pool.read { db in try body(StoreTransaction(db: db)) }
    }
}
