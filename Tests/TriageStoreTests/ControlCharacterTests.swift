import Foundation
import Testing
import TriageTesting
import TriageCore
import TriageStore

/// NUL and other control characters in chat text: refused whole or kept as typed, never cut.
@Suite struct ControlCharacterTests {
    @Test func nulIsRefusedAndNothingRuns() async throws {
        let h = try IncidentHarness()
        _ = await h.say("/incident open sev2 \"disk full\"")
        let before = try await h.events(1).count
        let reply = await h.say("/note the job wrote\u{0}then stopped")
        #expect(reply.contains("NUL character"), "\(reply)")
        #expect(try await h.events(1).count == before, "nothing recorded")
        let open = await h.say("/incident open sev2 \"a\u{0}b\"", room: "room-b")
        #expect(open.contains("NUL character"))
        #expect(try await h.incident(room: "room-b") == nil)
    }

    @Test func otherControlCharactersAreKeptVerbatim() async throws {
        let h = try IncidentHarness()
        _ = await h.say("/incident open sev2 \"tab\there \u{1}\u{7}\u{1B}[31m\u{7F} end\"")
        let incident = try #require(try await h.incident())
        // Tabs are typed spaces (TextNormalizer); the control characters stay.
        #expect(incident.title == "tab here \u{1}\u{7}\u{1B}[31m\u{7F} end")
        let text = "bell\u{7} esc\u{1B} del\u{7F} cr\r next \u{2028} sep \u{FEFF}end"
        _ = await h.say("/note \(text)")
        let notes = try await h.store.read { tx in try tx.events(incident: incident.id ?? 0, kind: .note) }
        // CR separates words like a space and the zero-width BOM is dropped (TextNormalizer);
        // everything else arrives as typed.
        #expect(notes.last?.text == "bell\u{7} esc\u{1B} del\u{7F} cr next \u{2028} sep end", "\(notes.last?.text.debugDescription ?? "-")")
        #expect(notes.last?.text.contains("bell\u{7} esc\u{1B} del\u{7F}") == true)
        #expect(notes.last?.text.hasSuffix("end") == true, "nothing cut after a control character")
    }

    @Test func parserRefusesNulAnywhere() {
        let parser = CommandLineParser()
        for line in ["/ping\u{0}", "/note \"a\u{0}\"", "\u{0}/ping", "/pg idle --older 5m\u{0}"] {
            #expect(throws: UsageError.self) { try parser.parse(line) }
        }
        #expect((try? parser.parse("/note a\u{1}b"))?.tokens.first?.text == "a\u{1}b")
    }
}
