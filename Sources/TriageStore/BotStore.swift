import Foundation
import GRDB
import TriageCore

/// Triage's durable state in one SQLite file: incidents and their timelines, platform
/// cursors and processed messages, the outbox, pending actions, pages and escalations,
/// platform state. WAL mode; every change goes through ``write(_:)`` as one transaction.
public final class BotStore: Sendable {
    let pool: any DatabaseWriter
    /// The file, or `:memory:`.
    public let path: String
    let signals = CommitSignals()

    /// Calls `body` with each reply for `platform` right after the commit that queued it (the
    /// outbox's wake-up, and its copy of the reply), in commit order.
    public func onEnqueue(platform: String, _ body: @escaping @Sendable (OutboxMessage) -> Void) {
        signals.onEnqueue(platform: platform, body)
    }

    /// Calls `body` after every commit that changed pages, their deliveries or on-call
    /// overrides (the escalation timer's wake-up).
    public func onPagingChange(_ body: @escaping @Sendable () -> Void) {
        signals.onPagingChange(body)
    }

    /// Opens (or creates) the store at `path` and migrates it.
    public convenience init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch let error as DatabaseError {
            throw TriageError(.config, "Cannot open the timeline store at \(path): \(error.message ?? "\(error.resultCode)")")
        }
        try self.init(pool, path: path)
    }

    /// A store on `writer` (a pool on a file; a `DatabaseQueue()` in memory for checks and tests), migrated.
    public init(_ writer: any DatabaseWriter, path: String = ":memory:") throws {
        do {
            try StoreMigrations.migrator.migrate(writer)
        } catch let error as DatabaseError {
            throw TriageError(.config, "Cannot migrate the timeline store at \(path): \(error.message ?? "\(error.resultCode)")")
        }
        self.pool = writer
        self.path = path
    }

    /// A store in memory, for `check-config` and tests.
    public static func inMemory() throws -> BotStore {
        try BotStore(DatabaseQueue(), path: ":memory:")
    }

    /// Runs `body` in one write transaction, off Swift's cooperative pool (GRDB's writer queue).
    ///
    /// The replies it queued are handed to their outbox once `pool.write` has returned, that
    /// is once the commit succeeded (SQLite's commit hook runs before a COMMIT that may still
    /// fail, on a full disk for one: a reply handed over from there could be a phantom).
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        let queued = QueuedReplies()
        let value = try await pool.write { db in try body(StoreTransaction(db: db, signals: signals, queued: queued)) }
        signals.enqueued(queued.messages)
        return value
    }

    /// Reads a consistent snapshot.
    public func read<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await pool.read { db in try body(StoreTransaction(db: db, signals: signals)) }
    }

    /// Synchronous variants for the command-line tools (not for async code).
    public func writeNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        let queued = QueuedReplies()
        let value = try pool.write { db in try body(StoreTransaction(db: db, signals: signals, queued: queued)) }
        signals.enqueued(queued.messages)
        return value
    }

    public func readNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try pool.read { db in try body(StoreTransaction(db: db, signals: signals)) }
    }
}
