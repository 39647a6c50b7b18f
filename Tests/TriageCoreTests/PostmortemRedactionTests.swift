import Foundation
import Testing
import TriageCore

/// Secrets in the rows of a long timeline, rendered part by part on two threads through
/// spool files, never reach a postmortem.
@Suite("Postmortem redaction")
struct PostmortemRedactionTests {
    static let secrets = ["hunter2-in-text", "s3cret-in-command", "pw-in-output", "tok-in-payload", "url-pass"]

    /// A 20,000-event incident with a secret in a text, a command, an output and a payload,
    /// in rows that fall in different parts (the first, the middle ones, the last).
    static func incident() -> Postmortem {
        let big = PostmortemFixtures.large(count: 20_000)
        guard case let array as TimelineEventArray = big.source else { return big }
        var events = array.events
        events[2].text = "connecting with password=hunter2-in-text now"
        events[7_001].command = "/pg sql SELECT 1 -- postgresql://app:s3cret-in-command@db/x"
        events[12_001].output = "conninfo: host=db password='pw-in-output'\nok"
        events[12_002].kind = .command
        events[12_002].payload = "{\"query\": \"ALTER ROLE app PASSWORD 'tok-in-payload'\"}"
        events[19_998].text = "dsn postgres://ops:url-pass@10.0.0.1/prod failed"
        return PostmortemBuilder.build(incident: big.incident, events: events, generatedAt: big.generatedAt)
    }

    @Test func noSecretInAnyFormatWhenTheTimelineIsRenderedInParts() throws {
        let pm = Self.incident()
        #expect((pm.source.parts()?.count ?? 0) > 1, "the timeline is rendered in several parts")
        let dir = NSTemporaryDirectory() + "pm-redact-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for doc in [MarkdownPostmortem() as any PostmortemDocument, HTMLPostmortem(), JSONPostmortem()] {
            var bytes: [UInt8] = []
            try PostmortemStream.render(doc, incident: pm.incident, source: pm.source, generatedAt: pm.generatedAt,
                                        spoolDirectory: dir) { bytes += $0 }
            let text = String(decoding: bytes, as: UTF8.self)
            for secret in Self.secrets {
                #expect(!text.contains(secret), "\(type(of: doc)) shows \(secret)")
            }
            #expect(text.contains("password=***"), "\(type(of: doc)): the masked text is still there")
            #expect(text.contains("ops:***@10.0.0.1"), "\(type(of: doc)): the masked URL is still there")
            #expect(text.contains("event 19997 with"), "\(type(of: doc)): the last part is there")
        }
    }
}
