import Foundation
import GRDB
import TriageCore

/// A previewed database action waiting for `/confirm TOKEN`: single use, expiring.
public struct PendingAction: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "pendingAction"

    /// Where a pending action is in its life.
    public struct Status: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Waiting for a confirmation.
        public static let pending = Status(rawValue: "pending")
        /// Confirmed; the statements are running (or the process stopped while they ran).
        public static let running = Status(rawValue: "running")
        public static let done = Status(rawValue: "done")
        public static let failed = Status(rawValue: "failed")
        public static let cancelled = Status(rawValue: "cancelled")
        public static let expired = Status(rawValue: "expired")
        /// Confirmed once; a new token was issued for the next confirmation.
        public static let superseded = Status(rawValue: "superseded")
        public var description: String { rawValue }
    }

    public var token: String
    public var platform: String
    public var room: String
    /// The command's name (`pg vacuum`).
    public var command: String
    /// The command line as typed (for people; never re-parsed).
    public var line: String
    /// The bound arguments as JSON: what runs at confirmation.
    public var arguments: String
    /// The database target, nil for the default.
    public var target: String?
    public var requestedBy: String
    /// The platform id of who asked for the preview.
    public var requestedByID: String
    /// The platform ids of who confirmed so far, as a JSON array.
    public var confirmerIDs: String
    /// The preview's captured columns as JSON (`{"pid": ["123", "456"]}`).
    public var captured: String
    public var confirmationsNeeded: Int
    public var confirmationsGiven: Int
    public var createdAt: Date
    public var expiresAt: Date
    public var status: Status
    public var confirmedBy: String?
    public var finishedAt: Date?
    /// One line: what happened.
    public var result: String?
    /// The outbox key of the bot's message that shows the preview (or the request for the next
    /// confirmation): edited with the decision.
    public var previewKey: String?

    public init(token: String, platform: String, room: String, command: String, line: String,
                arguments: BoundArguments = BoundArguments(), target: String?,
                requestedBy: String, requestedByID: String = "", captured: [String: [String?]], confirmationsNeeded: Int, confirmationsGiven: Int = 0,
                createdAt: Date, expiresAt: Date, status: Status = .pending) {
        self.token = token
        self.platform = platform
        self.room = room
        self.command = command
        self.line = line
        self.arguments = String(decoding: (try? JSONEncoder().encode(arguments)) ?? Data("{}".utf8), as: UTF8.self)
        self.target = target
        self.requestedBy = requestedBy
        self.requestedByID = requestedByID
        self.confirmerIDs = "[]"
        self.captured = String(decoding: (try? JSONEncoder().encode(captured)) ?? Data("{}".utf8), as: UTF8.self)
        self.confirmationsNeeded = confirmationsNeeded
        self.confirmationsGiven = confirmationsGiven
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.status = status
    }

    /// The bound arguments to run with.
    public var boundArguments: BoundArguments {
        (try? JSONDecoder().decode(BoundArguments.self, from: Data(arguments.utf8))) ?? BoundArguments()
    }

    /// Who confirmed so far, by platform id.
    public var confirmers: [String] {
        (try? JSONDecoder().decode([String].self, from: Data(confirmerIDs.utf8))) ?? []
    }

    /// The preview's captured columns.
    public var capturedValues: [String: [String?]] {
        (try? JSONDecoder().decode([String: [String?]].self, from: Data(captured.utf8))) ?? [:]
    }
}
