import Foundation
import Logging
import ServiceLifecycle
import Testing
import TriageChat
import TriageCore
import TriageRuntime
import TriageStore
import TriageTesting

/// The outbox sends a split reply part by part and records each in the store, so neither a
/// failure between parts nor a restart sends a delivered part again; rooms told to wait and
/// the recent pace survive a restart.
@Suite struct OutboxPartsTests {
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func queue(_ store: BotStore, key: String, room: String = "r1") async throws {
        let message = try OutboxMessage(platform: "parts", room: room, replyTo: nil, key: key,
                                        reply: Reply(blocks: [.text("reply \(key)")]), createdAt: Date())
        try await store.write { tx in _ = try tx.enqueue(message) }
    }

    /// Runs an outbox on `store` with `sink` while `body` runs, then shuts it down gracefully.
    func withOutbox(_ sink: PartSink, _ store: BotStore, _ body: () async throws -> Void) async throws {
        let outbox = OutboxService(platform: sink, store: store, logger: Self.quiet, drainTimeout: 0.2)
        let group = ServiceGroup(configuration: .init(services: [.init(service: outbox)], logger: Self.quiet))
        let running = Task { try await group.run() }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }

    @Test func aFailureBetweenPartsResendsOnlyThePartThatFailed() async throws {
        let store = try TemporaryStore.make()
        try await queue(store, key: "k1")
        // The second part is refused once (a 5xx): the first is not sent again.
        let sink = PartSink(parts: 3) { _, part, call in part == 1 && call == 1 ? DeliveryError(.retry(after: 0.05), "busy") : nil }
        try await withOutbox(sink, store) {
            _ = await sink.waitForDelivered(3)
        }
        #expect(sink.made.map(\.description) == ["k1#0", "k1#1!", "k1#1", "k1#2"])
        let (ids, pending) = try await store.read { tx in
            (try tx.sentMessageIDs(platform: "parts", key: "k1"), try tx.pendingOutbox(platform: "parts"))
        }
        #expect(ids == ["k1/0", "k1/1", "k1/2"])
        #expect(pending.isEmpty)
    }

    @Test func aRestartResumesAtTheFirstUnsentPart() async throws {
        let store = try TemporaryStore.make()
        try await queue(store, key: "k1")
        try await queue(store, key: "k2")
        // As a killed process leaves it: k1's first part sent, k2's second part was being sent.
        try await store.write { tx in
            let pending = try tx.pendingOutbox(platform: "parts")
            let k1 = try #require(pending.first { $0.key == "k1" }?.id)
            let k2 = try #require(pending.first { $0.key == "k2" }?.id)
            try tx.markPartSending(outboxID: k1, part: 0)
            try tx.markPartSent(outboxID: k1, part: 0, messageIDs: ["old/0"], complete: false)
            try tx.markPartSent(outboxID: k2, part: 0, messageIDs: ["old2/0"], complete: false)
            try tx.markPartSending(outboxID: k2, part: 1)
        }
        let sink = PartSink(parts: 3)
        try await withOutbox(sink, store) {
            _ = await sink.waitForDelivered(4)
        }
        // Nothing delivered is sent again; the part whose fate is unknown is (see deliver(_:)).
        #expect(sink.delivered == ["k1#1", "k1#2", "k2#1", "k2#2"])
        let (k1, k2, parts) = try await store.read { tx in
            (try tx.sentMessageIDs(platform: "parts", key: "k1"), try tx.sentMessageIDs(platform: "parts", key: "k2"),
             try tx.pendingOutbox(platform: "parts").count)
        }
        #expect(k1 == ["old/0", "k1/1", "k1/2"])
        #expect(k2 == ["old2/0", "k2/1", "k2/2"])
        #expect(parts == 0)
    }

    @Test func aRestartWaitsOutAPendingRetryAfter() async throws {
        let store = try TemporaryStore.make()
        try await queue(store, key: "k1")
        // A 429 with retry_after 4 s on the first part; then the process stops.
        let first = PartSink(parts: 1) { _, _, _ in DeliveryError(.retry(after: 4), "Too Many Requests: retry after 4") }
        try await withOutbox(first, store) {
            while first.made.isEmpty { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        // The hold the 429 left in the store: the restart must not send before it ends. (Timed
        // from the 429 itself, not from the stop: a loaded machine may take a while to stop.)
        let name = first.name
        let hold = try #require(try await store.write { tx in try tx.holds(platform: name, at: .distantPast) }.first)
        let second = PartSink(parts: 1)
        #expect(hold.notBefore > Date(), "the hold is still pending at the restart (else this test proves nothing)")
        try await withOutbox(second, store) {
            _ = await second.waitForDelivered(1)
        }
        #expect(second.delivered == ["k1#0"])
        let delivered = try #require(try await store.read { tx in try tx.outboxParts(outboxID: 1) }.first?.updatedAt)
        #expect(delivered >= hold.notBefore.addingTimeInterval(-0.05), "sent \(hold.notBefore.timeIntervalSince(delivered)) s before retry_after ended")
    }

    @Test func aRestartKeepsThePaceOfTheLastMinute() async throws {
        let store = try TemporaryStore.make()
        let slow = SendRateLimit(interval: 30)
        try await queue(store, key: "k1")
        let first = PartSink(parts: 1, limit: slow)
        try await withOutbox(first, store) { _ = await first.waitForDelivered(1) }
        #expect(first.delivered == ["k1#0"])
        try await queue(store, key: "k2")
        try await queue(store, key: "other", room: "r2")
        let second = PartSink(parts: 1, limit: slow)
        try await withOutbox(second, store) {
            _ = await second.waitForDelivered(1)
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        // r1 sent a message just now: its next one waits 30 s, restart or not; r2 is free.
        #expect(second.delivered == ["other#0"])
    }

    @Test func sentMessageIDsOfAnUnknownOrUnsentReplyAreEmpty() async throws {
        let store = try TemporaryStore.make()
        try await queue(store, key: "k1")
        let (unknown, unsent) = try await store.read { tx in
            (try tx.sentMessageIDs(platform: "parts", key: "nope"), try tx.sentMessageIDs(platform: "parts", key: "k1"))
        }
        #expect(unknown.isEmpty && unsent.isEmpty)
    }
}
