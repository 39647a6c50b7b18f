import Foundation
import Testing
import TriageCore
import TriageTesting
@testable import TriageTelegram

/// Telegram HTML of representative replies, against golden files (TRIAGE_RECORD_GOLDEN=1 re-records).
@Suite struct TelegramGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test(arguments: SampleReplies.all.map(\.name))
    func htmlMatchesTheGoldenFile(_ name: String) throws {
        let reply = try #require(SampleReplies.all.first { $0.name == name }?.reply)
        let html = TelegramHTMLRenderer().render(reply).joined(separator: "\n----- next message -----\n")
        #expect(GoldenFile.mismatch(html, name: "telegram-\(name).html", directory: Self.directory) == nil)
    }
}
