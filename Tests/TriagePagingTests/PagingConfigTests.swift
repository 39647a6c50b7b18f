import Foundation
import Testing
import TriageCore
@testable import TriagePaging

@Suite struct PagingConfigTests {
    @Test func readsTheExampleConfig() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/paging.example.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let root = try YAMLNode.parse(text, file: path)
        let config = try PagingConfig.parse(try #require(root["paging"]),
                                            environment: ["TRIAGE_PAGERDUTY_ROUTING_KEY": "k", "TRIAGE_OPSGENIE_API_KEY": "k"])
        #expect(!config.policies.isEmpty)
        #expect(!config.schedules.isEmpty)
        #expect(config.autoPage[.sev1] != nil)
    }

    @Test func readsTheFixture() throws {
        let c = try PagingFixture.parse(PagingFixture.yaml(base: "http://127.0.0.1:1"))
        #expect(c.policies["default"]?.levels.count == 3)
        #expect(c.policies["default"]?.repeats == 1)
        #expect(c.policies["default"]?.levels[2].targets == [.person("dave"), .room("incident")])
        #expect(c.policies["quiet"]?.levels[0].notify == ["chat"])
        #expect(c.person(named: "@carol")?.name == "carol")
        #expect(c.autoPage[.sev2] == "default")
        #expect(c.autoPage[.sev3] == nil)
        #expect(c.retry.delay(afterAttempts: 1) == 10)
        #expect(c.retry.delay(afterAttempts: 3) == 40)
        #expect(c.retry.delay(afterAttempts: 9) == 120)
    }

    @Test func problemsNameTheLine() throws {
        let text = PagingFixture.yaml(base: "http://x").replacingOccurrences(of: "[{schedule: secondary}]", with: "[{schedule: tertiary}]")
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("tertiary") }! + 1
        #expect {
            try PagingFixture.parse(text)
        } throws: { error in
            let e = error as? ConfigError
            return e?.line == line && e?.message.contains("unknown schedule 'tertiary'") == true
        }
        #expect(throws: ConfigError.self) { try PagingFixture.parse(PagingFixture.yaml(base: "x"), environment: [:]) }
        let badZone = PagingFixture.yaml(base: "x").replacingOccurrences(of: "Europe/Berlin", with: "Mars/Olympus")
        #expect { try PagingFixture.parse(badZone) } throws: { ($0 as? ConfigError)?.message.contains("unknown time zone") == true }
    }
}
