import Foundation
import Testing
import TriageTesting
import TriageCore
@testable import TriageStore

/// Room moves (Telegram group → supergroup) in the SQLite store: recorded once, kept across
/// reopening, and they carry the unsent replies and the open incident to the new room.
@Suite struct RoomMigrationStoreTests {
    let path = TestEnvironment.scratch("room-migration").appendingPathComponent("t.sqlite").path

    @Test func moveIsKeptAndCarriesOutboxAndIncident() async throws {
        let now = Date()
        do {
            let store = try BotStore(path: path)
            try await store.write { tx in
                try tx.enqueue(OutboxMessage(platform: "telegram", room: "-5", replyTo: "-5:1", key: "k1", reply: .text("a"), createdAt: now))
                try tx.enqueue(OutboxMessage(platform: "matrix", room: "-5", replyTo: nil, key: "k2", reply: .text("b"), createdAt: now))
                _ = try tx.insert(Incident(platform: "telegram", room: "-5", title: "lag", severity: .sev2, openedBy: "x", openedAt: now))
                try tx.recordRoomMigration(platform: "telegram", fromRoom: "-5", toRoom: "-1005")
                try tx.recordRoomMigration(platform: "telegram", fromRoom: "-5", toRoom: "-1005")
            }
        }
        let store = try BotStore(path: path)
        let (moves, telegram, matrix, incident) = try await store.read { tx in
            (try tx.roomMigrations(platform: "telegram"), try tx.pendingOutbox(platform: "telegram"),
             try tx.pendingOutbox(platform: "matrix"), try tx.activeIncident(platform: "telegram", room: "-1005"))
        }
        #expect(moves == ["-5": "-1005"])
        #expect(telegram.map(\.room) == ["-1005"])
        #expect(matrix.map(\.room) == ["-5"])          // other platforms are not touched
        #expect(incident?.title == "lag")
        #expect(try await store.read { tx in try tx.roomMigrations(platform: "matrix") }.isEmpty)
    }

    @Test func incidentStaysWhenTheNewRoomHasOne() async throws {
        let store = try BotStore(path: path)
        let now = Date()
        try await store.write { tx in
            _ = try tx.insert(Incident(platform: "telegram", room: "-6", title: "old", severity: .sev2, openedBy: "x", openedAt: now))
            _ = try tx.insert(Incident(platform: "telegram", room: "-1006", title: "new", severity: .sev2, openedBy: "x", openedAt: now))
            try tx.recordRoomMigration(platform: "telegram", fromRoom: "-6", toRoom: "-1006")
        }
        let (old, new) = try await store.read { tx in
            (try tx.activeIncident(platform: "telegram", room: "-6"), try tx.activeIncident(platform: "telegram", room: "-1006"))
        }
        #expect(old?.title == "old")
        #expect(new?.title == "new")
    }
}
