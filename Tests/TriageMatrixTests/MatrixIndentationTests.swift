import Testing
import TriageCore
@testable import TriageMatrix

/// A blocking tree's depth is leading spaces in its first cell; HTML would collapse them.
@Suite struct MatrixIndentationTests {
    @Test func leadingSpacesOfACellSurviveAsNonBreakingSpaces() {
        let reply = Reply(blocks: [.table(ReplyTable(columns: ["session"], rows: [[ReplyCell("101")], [ReplyCell("  └ 102")],
                                                                                  [ReplyCell("    └ 103")]]))])
        let html = MatrixHTMLRenderer().render(reply)
        #expect(html.contains("<td>&nbsp;&nbsp;└ 102</td>"))
        #expect(html.contains("<td>&nbsp;&nbsp;&nbsp;&nbsp;└ 103</td>"))
        #expect(html.contains("<td>101</td>"))
    }
}
