import Testing
import TriageCore

/// YAML errors name the file and line but never quote the line: it may hold a secret.
@Suite struct YAMLNodeTests {
    @Test func aReaderErrorNamesTheLineWithoutQuotingIt() throws {
        let text = "timeline: t.sqlite\ndatabases:\n  - url: postgresql://app:hunter2@db/x\u{01}\n"
        do {
            _ = try YAMLNode.parse(text, file: "triage.yaml")
            Issue.record("a control character was accepted")
        } catch let e as ConfigError {
            #expect(e.file == "triage.yaml")
            #expect(e.line == 3, "\(e.description)")
            #expect(e.description.hasPrefix("triage.yaml:3: YAML syntax: "), "\(e.description)")
            #expect(!e.description.contains("hunter2"), "\(e.description)")
        }
    }

    @Test func aScannerErrorNamesTheLineWithoutQuotingIt() throws {
        let text = "telegram:\n  token: \"123:secret-token\n"
        do {
            _ = try YAMLNode.parse(text, file: "triage.yaml")
            Issue.record("an unterminated quote was accepted")
        } catch let e as ConfigError {
            #expect(e.line != nil, "\(e.description)")
            #expect(!e.description.contains("secret-token"), "\(e.description)")
        }
    }
}
