import Foundation
import TriageChat
import TriageCore
import TriageStore

/// What a platform may keep across restarts, backed by the store and scoped to the platform.
public struct StorePlatformHost: PlatformHost {
    let platform: String
    let store: BotStore
    public let registry: CommandRegistry

    public init(platform: String, store: BotStore, registry: CommandRegistry) {
        self.platform = platform
        self.store = store
        self.registry = registry
    }

    public func state(_ key: String) async throws -> String? {
        let platform = self.platform
        return try await store.read { tx in try tx.platformState(platform: platform, key: key) }
    }

    public func setState(_ key: String, _ value: String) async throws {
        let platform = self.platform
        try await store.write { tx in try tx.setPlatformState(value, platform: platform, key: key) }
    }

    public func queue(_ reply: Reply, room: String, key: String) async throws {
        let message = try OutboxMessage(platform: platform, room: room, replyTo: nil, key: key, reply: reply, createdAt: Date())
        try await store.write { tx in _ = try tx.enqueue(message) }
    }

    public func wasHandled(messageID: String) async throws -> Bool {
        let platform = self.platform
        return try await store.read { tx in try tx.wasProcessed(platform: platform, messageID: messageID) }
    }

    public func roomMoves() async throws -> [String: String] {
        let platform = self.platform
        return try await store.read { tx in try tx.roomMigrations(platform: platform) }
    }

    public func recordRoomMove(from room: String, to newRoom: String) async throws {
        let platform = self.platform
        try await store.write { tx in try tx.recordRoomMigration(platform: platform, fromRoom: room, toRoom: newRoom) }
    }
}
