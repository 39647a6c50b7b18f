import Foundation
import Testing
@testable import TriageCore

@Suite struct RenderingTests {
    @Test func tablesAlignAndFlag() {
        let reply = Reply(title: "Connections", blocks: [
            .keyValues([KeyValue("used", "93.0%", mark: .critical), KeyValue("max_connections", "100")]),
            .table(ReplyTable(title: "By state", columns: ["state", "n"], numeric: [false, true],
                              rows: [["active", "12"], ["idle in transaction", ReplyCell("3", mark: .warning)]])),
        ])
        let text = TextRenderer().render(reply)
        #expect(text == """
        [CRIT] Connections

        used             93.0% !!
        max_connections  100

        By state
        state                  n
        -------------------  ---
        active                12
        idle in transaction  3 !
        """)
    }

    @Test func emptyTablesSayWhy() {
        let text = TextRenderer().render(Reply(blocks: [.table(ReplyTable(columns: ["a"], rows: [], emptyText: "Nothing idle."))]))
        #expect(text == "Nothing idle.")
    }

    @Test func longCellsAreClippedAndNewlinesFlattened() {
        let long = String(repeating: "x", count: 200)
        let text = TextRenderer(maxCellWidth: 20).render(Reply(blocks: [.table(ReplyTable(columns: ["q"], rows: [[ReplyCell("SELECT\n  1")], [ReplyCell(long)]]))]))
        #expect(text.contains("SELECT 1"))
        #expect(text.contains(String(repeating: "x", count: 19) + "…"))
    }

    @Test func htmlEscaping() {
        #expect("<b>a & \"b\"</b>".htmlEscaped == "&lt;b&gt;a &amp; &quot;b&quot;&lt;/b&gt;")
    }

    @Test func valueUnitsAndThresholds() {
        #expect(ValueFormatter.format("1536", unit: .bytes) == "1.5 kB")
        #expect(ValueFormatter.format("7654321", unit: .bytes) == "7.3 MB")
        #expect(ValueFormatter.format("12.34", unit: .percent) == "12.3%")
        #expect(ValueFormatter.format("125", unit: .duration) == "2m05s")
        #expect(ValueFormatter.format("12.5", unit: .milliseconds) == "12.50 ms")
        #expect(ValueFormatter.format(nil, unit: .number) == "-")
        let spec = ColumnSpec(name: "pct", unit: .percent, warn: 75, critical: 90)
        #expect(spec.mark(for: "50") == .none)
        #expect(spec.mark(for: "75") == .warning)
        #expect(spec.mark(for: "95.5") == .critical)
        let hit = ColumnSpec(name: "hit", unit: .percent, warn: 99, critical: 95, lowerIsWorse: true)
        #expect(hit.mark(for: "99.9") == .none)
        #expect(hit.mark(for: "97") == .warning)
        #expect(hit.mark(for: "90") == .critical)
    }

    @Test func stepRendererFillsSummaryAndMarks() {
        let step = RunbookStep(title: "Usage", sql: "", display: .keyValues,
                               columns: [ColumnSpec(name: "total", unit: .number), ColumnSpec(name: "pct", title: "used", unit: .percent, warn: 75)],
                               summary: "{total} used ({pct}%), older than {older}")
        let result = QueryResult(columns: ["total", "pct"], rows: [["80", "80.0"]])
        let (blocks, summary) = StepRenderer().render(step, result: result, arguments: BoundArguments(["older": .duration(600)]))
        #expect(summary == "80 used (80.0%), older than 10m00s")
        #expect(blocks.last == .keyValues([KeyValue("total", "80"), KeyValue("used", "80.0%", mark: .warning)]))
    }

    @Test func utcTimesCarryTheDate() {
        #expect(UTCTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00 UTC")
        #expect(UTCTime.format(Date(timeIntervalSince1970: 1_795_000_000)) == "2026-11-18 11:06:40 UTC")
        #expect(UTCTime.iso(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
    }

    @Test func replyRoundTripsThroughJSON() throws {
        let reply = Reply(title: "t", blocks: [.note("n", .warning), .code("SELECT 1"), .table(ReplyTable(columns: ["a"], rows: [["1"]]))], summary: "s")
        let data = try JSONEncoder().encode(reply)
        #expect(try JSONDecoder().decode(Reply.self, from: data) == reply)
    }
}
