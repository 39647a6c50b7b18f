import Foundation
import Testing
import TriageCore
@testable import TriageStore

/// The SQLite store on a real temp file: migrations, cursors, de-duplication, outbox, the
/// one-active-incident-per-room rule, and durability across reopening.
@Suite struct TimelineStoreTests {
    let path = TestEnvironment.scratch("store").appendingPathComponent("t.sqlite").path

    @Test func cursorsAndProcessedMessagesSurviveReopening() async throws {
        do {
            let store = try BotStore(path: path)
            try await store.write { tx in
                try tx.setCursor("41", platform: "telegram")
                #expect(try tx.markProcessed(platform: "telegram", messageID: "7"))
                #expect(try tx.markProcessed(platform: "telegram", messageID: "7") == false)
            }
        }
        let reopened = try BotStore(path: path)
        let (cursor, seen) = try await reopened.read { tx in
            (try tx.cursor(platform: "telegram"), try tx.wasProcessed(platform: "telegram", messageID: "7"))
        }
        #expect(cursor == "41")
        #expect(seen)
    }

    @Test func outboxIsOrderedAndKeyedOnce() async throws {
        let store = try BotStore(path: path)
        let now = Date()
        try await store.write { tx in
            for i in 1...3 {
                try tx.enqueue(OutboxMessage(platform: "matrix", room: "!r", replyTo: "$e\(i)", key: "k\(i)", reply: .text("reply \(i)"), createdAt: now))
            }
            try tx.enqueue(OutboxMessage(platform: "matrix", room: "!r", replyTo: "$e1", key: "k1", reply: .text("duplicate"), createdAt: now))
        }
        var pending = try await store.read { tx in try tx.pendingOutbox(platform: "matrix") }
        #expect(pending.map(\.key) == ["k1", "k2", "k3"])
        #expect(try pending[0].decodedReply() == .text("reply 1"))
        let first = pending[0].id!
        try await store.write { tx in try tx.markSent(outboxID: first) }
        pending = try await store.read { tx in try tx.pendingOutbox(platform: "matrix") }
        #expect(pending.map(\.key) == ["k2", "k3"])
    }

    @Test func oneActiveIncidentPerRoom() async throws {
        let store = try BotStore(path: path)
        let now = Date()
        let id = try await store.write { tx in
            try tx.insert(Incident(platform: "console", room: "a", title: "one", severity: .sev2, openedBy: "x", openedAt: now)).id!
        }
        await #expect(throws: (any Error).self) {
            try await store.write { tx in
                _ = try tx.insert(Incident(platform: "console", room: "a", title: "two", severity: .sev3, openedBy: "x", openedAt: now))
            }
        }
        // Another room may have its own.
        _ = try await store.write { tx in
            try tx.insert(Incident(platform: "console", room: "b", title: "three", severity: .sev3, openedBy: "x", openedAt: now))
        }
        try await store.write { tx in
            var i = try tx.incident(id: id)!
            i.status = .resolved
            try tx.update(i)
            _ = try tx.insert(Incident(platform: "console", room: "a", title: "four", severity: .sev1, openedBy: "x", openedAt: now))
        }
        let active = try await store.read { tx in try tx.incidents(activeOnly: true).map(\.title) }
        #expect(Set(active) == ["three", "four"])
    }

    @Test func eventsKeepOrderAndDates() async throws {
        let store = try BotStore(path: path)
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        let id = try await store.write { tx in
            let i = try tx.insert(Incident(platform: "console", room: "c", title: "t", severity: .sev2, openedBy: "x", openedAt: t0))
            for n in 0..<50 {
                try tx.append(TimelineEvent(incidentID: i.id!, at: t0.addingTimeInterval(Double(n)), actor: "x", kind: .note, text: "n\(n)"))
            }
            return i.id!
        }
        let last = try await store.read { tx in try tx.events(incident: id, last: 3) }
        #expect(last.map(\.text) == ["n47", "n48", "n49"])
        #expect(last[0].at == t0.addingTimeInterval(47))
    }

    @Test func anUnwritablePathIsAClearError() {
        #expect(throws: TriageError.self) { try BotStore(path: "/proc/nope/t.sqlite") }
    }
}
