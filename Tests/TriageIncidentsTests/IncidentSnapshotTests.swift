import Foundation
import Testing
import TriageTesting
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageCore
import TriageStore

@Suite("Incident snapshot and recorded commands", .enabled(if: ProcessInfo.processInfo.environment["TRIAGE_TEST_PG_URL"] != nil))
struct IncidentSnapshotTests {
    let url = ProcessInfo.processInfo.environment["TRIAGE_TEST_PG_URL"] ?? ""

    @Test("opening captures connections, queries, locks and top statements; runbook commands are recorded with output")
    func snapshot() async throws {
        let h = try IncidentHarness(databaseURL: url)
        let opened = await h.say("/incident open sev2 Pool exhausted")
        #expect(opened.contains("Database snapshot:"))
        #expect(opened.contains("connections"))
        await h.say("/pg connections")
        await h.app.shutdown()
        let events = try await h.events(1)
        let snap = try #require(events.first { $0.kind == .snapshot })
        #expect(snap.text.hasPrefix("Database snapshot: "))
        #expect(snap.output?.contains("locks waiting") == true)
        #expect(snap.output?.contains("Active queries") == true)
        let payload = try JSONSerialization.jsonObject(with: Data((snap.payload ?? "").utf8)) as? [String: Any]
        let connections = payload?["connections"] as? [[String: Any]]
        #expect(connections?.first?["max_connections"] != nil)
        #expect(payload?["locks"] != nil)
        let command = try #require(events.first { $0.kind == .command })
        #expect(command.command == "/pg connections")
        #expect(command.output?.contains("max_connections") == true)
        #expect(command.at == IncidentHarness.t0)
    }
}
