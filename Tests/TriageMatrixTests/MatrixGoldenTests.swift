import Foundation
import Testing
import TriageCore
import TriageTesting
@testable import TriageMatrix

/// Matrix HTML (formatted_body) of representative replies, against golden files.
@Suite struct MatrixGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test(arguments: SampleReplies.all.map(\.name))
    func htmlMatchesTheGoldenFile(_ name: String) throws {
        let reply = try #require(SampleReplies.all.first { $0.name == name }?.reply)
        #expect(GoldenFile.mismatch(MatrixHTMLRenderer().render(reply), name: "matrix-\(name).html", directory: Self.directory) == nil)
    }
}
