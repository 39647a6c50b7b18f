import Foundation
import Logging
import Synchronization
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageCore
import TriageStore

/// A Triage application on a fresh timeline store with an injected clock, and people typing in rooms.
package final class IncidentHarness: Sendable {
    package static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    package static let t0 = Date(timeIntervalSince1970: 1_773_478_800)   // 2026-03-14 09:00:00 UTC

    package let app: TriageApplication
    package let clock = TestClock(t0)
    package let directory: URL
    private let counter = Mutex(0)

    /// - Parameter databaseURL: PostgreSQL for snapshots (default: an address where nothing listens).
    package init(databaseURL: String = "postgresql://triage@127.0.0.1:1/none") throws {
        let base = ProcessInfo.processInfo.environment["TRIAGE_TEST_WORK"] ?? NSTemporaryDirectory()
        directory = URL(fileURLWithPath: base).appendingPathComponent("incidents-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let yaml = """
            databases:
              - name: main
                url: \(databaseURL)
                connect_timeout: 2s
            timeline: \(directory.appendingPathComponent("timeline.sqlite").path)
            commands: \(Self.repo.appendingPathComponent("commands").path)
            postmortems:
              directory: \(directory.appendingPathComponent("pm").path)
            """
        let config = try TriageConfig.parse(yaml, file: "test.yaml", environment: [:])
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        app = try TriageApplication(config: config, plugins: StandardPlugins.all, logger: logger, clock: clock)
    }

    package var store: BotStore { app.store }

    /// Sends `text` as `who` with `role` in `room` and returns the reply rendered as text.
    @discardableResult
    package func say(_ text: String, as who: String = "@alice", role: Role = .responder, room: String = "room-a") async -> String {
        let id: Int = counter.withLock { $0 += 1; return $0 }
        let message = InboundMessage(platform: "telegram", room: room, sender: who, senderName: who, text: text,
                                     messageID: "m\(id)", role: role, receivedAt: clock.now)
        guard let reply = await app.dispatcher.handle(message) else { return "" }
        return TextRenderer(maxCellWidth: 200).render(reply)
    }

    package func incident(room: String = "room-a") async throws -> Incident? {
        try await store.read { tx in try tx.latestIncident(platform: "telegram", room: room) }
    }

    package func events(_ id: Int64) async throws -> [TimelineEvent] {
        try await store.read { tx in try tx.events(incident: id) }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }
}
