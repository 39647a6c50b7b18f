import Foundation
import Testing
@testable import TriageCore

@Suite struct RunbookLoaderTests {
    /// The repository's commands/ folder, found from this file's path.
    static var commandsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("commands").path
    }

    @Test func everyShippedFileLoadsCleanly() {
        let outcome = RunbookLoader().load(directory: Self.commandsDirectory)
        #expect(outcome.errors.isEmpty, "\(outcome.errors.map(\.description))")
        let names = Set(outcome.declarations.map(\.name))
        for required in ["pg connections", "pg idle", "pg active", "pg slow", "pg size", "pg bloat", "pg vacuum-stats", "pg indexes"] {
            #expect(names.contains(required), "\(required)")
        }
        for d in outcome.declarations {
            #expect(!d.summary.isEmpty)
            #expect(!d.section.isEmpty)
            #expect(d.runbook != nil)
        }
    }

    func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try RunbookLoader().parse(yaml, file: "x.yaml")
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            return ConfigError(file: "?", line: nil, message: "\(error)")
        }
    }

    @Test func syntaxErrorsHaveALine() {
        let e = error("section: x\ncommands:\n  - name: pg a\n    summary: [unclosed\n")
        #expect(e?.file == "x.yaml")
        #expect(e?.line != nil)
    }

    @Test func unknownKeysAreReportedWithSuggestionAndLine() {
        let e = error("""
        section: "S"
        commands:
          - name: pg a
            summary: ok
            stpes:
              - sql: SELECT 1
        """)
        #expect(e?.line == 5)
        #expect(e?.message.contains("did you mean 'steps'") == true)
    }

    @Test func parameterCountMustMatch() {
        let e = error("""
        section: "S"
        commands:
          - name: pg a
            summary: ok
            arguments:
              - {name: older, type: duration, flag: true, default: 10m}
            steps:
              - sql: SELECT $1::interval, $2
                params: [older]
        """)
        #expect(e?.message.contains("$1…$2") == true)
        #expect(e?.line == 8)
    }

    @Test func badDefaultsAndTypesAreCaught() {
        #expect(error("""
        section: S
        commands:
          - name: pg a
            summary: ok
            arguments: [{name: older, type: duration, default: soon}]
            steps: [{sql: SELECT 1}]
        """) != nil)
        #expect(error("""
        section: S
        commands:
          - name: pg a
            summary: ok
            arguments: [{name: x, type: float}]
            steps: [{sql: SELECT 1}]
        """)?.message.contains("unknown type") == true)
    }

    @Test func actionsMustBeGuarded() {
        let e = error("""
        section: S
        commands:
          - name: pg zap
            summary: zap
            kind: action
            role: viewer
            steps: [{sql: SELECT 1}]
            action:
              statements: [{sql: SELECT 1}]
        """)
        #expect(e?.message.contains("operator") == true)
    }

    @Test func aBadFileDoesNotStopTheOthers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "section: A\ncommands:\n  - name: pg good\n    summary: ok\n    steps: [{sql: SELECT 1}]\n".write(to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try "section: B\ncommands: [ {name: \n".write(to: dir.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        let outcome = RunbookLoader().load(directory: dir.path)
        #expect(outcome.declarations.map(\.name) == ["pg good"])
        #expect(outcome.errors.count == 1)
        #expect(outcome.errors.first?.file.hasSuffix("b.yaml") == true)
    }

    /// Files are parsed on every core; the outcome still follows file-name order, errors
    /// included, and a duplicate is reported against the later file.
    @Test func manyFilesParsedAtOnceKeepNameOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for i in (0..<24).reversed() {
            let name = String(format: "%02d.yaml", i)
            let text = i % 5 == 3
                ? "section: S\(i)\ncommands: [ {name: \n"
                : "section: S\(i)\ncommands:\n  - name: pg c\(i)\n    summary: ok\n    steps: [{sql: SELECT 1}]\n"
                    + (i == 20 ? "  - name: pg c1\n    summary: again\n    steps: [{sql: SELECT 1}]\n" : "")
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let outcome = RunbookLoader().load(directory: dir.path)
        let good = (0..<24).filter { $0 % 5 != 3 }
        #expect(outcome.declarations.map(\.name) == good.flatMap { $0 == 20 ? ["pg c20", "pg c1"] : ["pg c\($0)"] })
        #expect(outcome.sections.map(\.title) == good.map { "S\($0)" })
        let files = outcome.errors.map { ($0.file as NSString).lastPathComponent }
        #expect(files == ["03.yaml", "08.yaml", "13.yaml", "18.yaml", "23.yaml", "20.yaml:6"])   // a duplicate names where it is declared
        #expect(outcome.errors.last?.message.contains("already declared") == true)
    }
}
