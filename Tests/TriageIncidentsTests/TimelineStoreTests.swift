import Foundation
import Testing
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageTesting
import TriageCore
@testable import TriageIncidents
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

    @Test func streamedEventsMatchFetchedOnesDatesIncluded() async throws {
        let store = try BotStore(path: path)
        // Dates across leap days, a century, milliseconds and the end of a day.
        let times = [1_795_000_000.0, 951_782_400.5, 1_709_164_800.007, 4_102_444_799.999, 86_399.123, 1_773_478_800.25]
        let id = try await store.write { tx in
            let i = try tx.insert(Incident(platform: "console", room: "dates", title: "t", severity: .sev2, openedBy: "x",
                                           openedAt: Date(timeIntervalSince1970: times[0])))
            let other = try tx.insert(Incident(platform: "console", room: "other", title: "o", severity: .sev3, openedBy: "y",
                                               openedAt: Date(timeIntervalSince1970: times[0])))
            for (n, t) in times.enumerated() {
                try tx.append(TimelineEvent(incidentID: i.id!, at: Date(timeIntervalSince1970: t), actor: "x",
                                            kind: n % 2 == 0 ? .note : .command, text: "n\(n)", output: n % 2 == 0 ? nil : "out"))
                // Another room's incident writes in between: the sweep between first and last must skip it.
                try tx.append(TimelineEvent(incidentID: other.id!, at: Date(timeIntervalSince1970: t), actor: "y", kind: .note,
                                            text: "other \(n)", output: "o"))
            }
            return i.id!
        }
        let (fetched, streamed, outputs, notes) = try await store.read { tx in
            var all: [TimelineEvent] = [], withOutput: [TimelineEvent] = [], notes: [TimelineEvent] = []
            let (first, last) = try tx.eventIDRange(incident: id)
            try tx.forEachEvent(incident: id, from: first, upTo: last) { all.append($0) }
            try tx.forEachEvent(incident: id, filter: .withOutput, from: first, upTo: last) { withOutput.append($0) }
            var light: [TimelineEvent] = []
            try tx.forEachEvent(incident: id, filter: .summary) { light.append($0) }
            #expect(light.map(\.output) == [nil, "", nil, "", nil, ""], "the summary read leaves outputs out")
            try tx.forEachEvent(incident: id, filter: .kinds([.note]), upTo: all[3].id ?? 0) { notes.append($0) }
            return (try tx.events(incident: id), all, withOutput, notes)
        }
        #expect(streamed == fetched, "the fast date reader gives GRDB's dates exactly")
        #expect(outputs.map(\.text) == ["n1", "n3", "n5"])
        #expect(notes.map(\.text) == ["n0", "n2"])
        #expect(StoreTransaction.fastDate(Data("2026-13-01 00:00:00.000".utf8)) == nil)
        #expect(StoreTransaction.fastDate(Data("2026-03-14T09:00:00.000".utf8)) == nil)
        // Every position must be a digit (a byte below '0' wraps around, one above '9' is too big).
        for bad in ["2026-03-1x 09:00:00.000", "2026-03-14 09:00:0/.000", "2026-03-14 09:00:00.00:", "2/26-03-14 09:00:00"] {
            #expect(StoreTransaction.fastDate(Data(bad.utf8)) == nil, "\(bad)")
        }
        #expect(StoreTransaction.fastDate(Data("2026-03-14 09:00:00.250".utf8)) == Date(timeIntervalSince1970: 1_773_478_800.25))
        #expect(StoreTransaction.fastDate(Data("2026-03-14 09:00:00".utf8)) == Date(timeIntervalSince1970: 1_773_478_800))
        #expect(StoreTransaction.fastDate(Data("1969-12-31 23:59:59.000".utf8)) == Date(timeIntervalSince1970: -1))
    }

    @Test(arguments: [300, 2500])
    func postmortemStreamedFromTheStoreMatchesTheOneFromMemory(count: Int) async throws {
        // Past 2,000 events the summary reads fewer columns: the documents must not change.
        let store = try BotStore(path: path)
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        let id = try await store.write { tx in
            let i = try tx.insert(Incident(platform: "console", room: "pm-\(count)", title: "Big | <one>", severity: .sev1, openedBy: "@a",
                                           openedAt: t0))
            try tx.append(TimelineEvent(incidentID: i.id!, at: t0, actor: "@a", kind: .opened, text: "Opened sev1"))
            try tx.append(TimelineEvent(incidentID: i.id!, at: t0.addingTimeInterval(1), actor: "@a", kind: .page,
                                        text: "Page #1 (policy db, level 1/1): paged @bob via chat, pagerduty."))
            try tx.append(TimelineEvent(incidentID: i.id!, at: t0.addingTimeInterval(2), actor: "triage", kind: .page,
                                        text: "pagerduty: trigger for page #1 level 1 delivered."))
            for n in 3..<count {
                let kind: TimelineEvent.Kind = [.note, .command, .followUp][n % 3]
                try tx.append(TimelineEvent(incidentID: i.id!, at: t0.addingTimeInterval(Double(n)), actor: "@u\(n % 4)", kind: kind,
                                            command: kind == .command ? "/pg locks" : nil, text: "event \(n) | <x>",
                                            output: kind == .command ? "out \(n)" : nil))
                if n == count / 2 {
                    try tx.append(TimelineEvent(incidentID: i.id!, at: t0.addingTimeInterval(Double(n)), actor: "@bob", kind: .acknowledged,
                                                text: "Page #1 acknowledged by @bob at level 1/1; escalation stopped."))
                }
            }
            return i.id!
        }
        let (incident, events) = try await store.read { tx in (try tx.incident(id: id)!, try tx.events(incident: id)) }
        let at = t0.addingTimeInterval(90_000)
        let memory = PostmortemBuilder.build(incident: incident, events: events, generatedAt: at)
        let dir = TestEnvironment.scratch("pm-stream-\(count)").path
        let writer = PostmortemWriter(store: store, directory: dir)
        let (loaded, source) = try writer.sourceNow(incident: id)
        for (format, document) in [(PostmortemWriter.Format.markdown, MarkdownPostmortem() as any PostmortemDocument),
                                   (.html, HTMLPostmortem()), (.json, JSONPostmortem())] {
            let file = dir + "/out." + format.fileExtension
            _ = try writer.write(incident: loaded, source: source, generatedAt: at, format: format, to: file)
            let written = try String(contentsOfFile: file, encoding: .utf8)
            #expect(written == PostmortemStream.string(document, memory), "\(format) differs")
        }
        #expect(memory.momentList[1].definedBy.contains("acknowledged by @bob"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.hasPrefix(".triage-spool") })
    }

    @Test func anUnwritablePathIsAClearError() {
        #expect(throws: TriageError.self) { try BotStore(path: "/proc/nope/t.sqlite") }
    }
}
