import TriageCore
import Foundation

/// Compares rendered text with a golden file; with `TRIAGE_RECORD_GOLDEN=1` in the
/// environment the file is (re)written instead.
public enum GoldenFile {
    public static var recording: Bool { ProcessInfo.processInfo.environment["TRIAGE_RECORD_GOLDEN"] == "1" }

    /// nil when `actual` matches `directory/name` (or was just recorded); otherwise what differs.
    public static func mismatch(_ actual: String, name: String, directory: URL) -> String? {
        let url = directory.appendingPathComponent(name)
        if recording {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try Data(actual.utf8).write(to: url)
                return nil
            } catch {
                return "could not record \(name): \(error)"
            }
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return "Golden file \(name) is missing; run with TRIAGE_RECORD_GOLDEN=1 to record it."
        }
        let expected = String(decoding: data, as: UTF8.self)
        guard actual != expected else { return nil }
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let first = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }.map(\.offset) ?? min(a.count, e.count)
        let got = first < a.count ? String(a[first]) : "<end>"
        let want = first < e.count ? String(e[first]) : "<end>"
        return "\(name) differs at line \(first + 1):\n  expected: \(want)\n  actual:   \(got)\n(TRIAGE_RECORD_GOLDEN=1 re-records)"
    }
}


/// Representative replies for golden files: every block kind, marks, and database text that
/// must be escaped (quotes, `<`, `&`, unicode).
public enum SampleReplies {
    public static let all: [(name: String, reply: Reply)] = [
        ("connections", Reply(title: "Connections in use vs max_connections", blocks: [
            .keyValues([KeyValue("connections", "87", mark: .warning), KeyValue("max_connections", "100"),
                        KeyValue("used", "87.0%", mark: .warning)]),
            .table(ReplyTable(title: "By application", columns: ["application", "state", "count"], numeric: [false, false, true],
                              rows: [[ReplyCell("<b>evil</b> & \"co\""), ReplyCell("idle"), ReplyCell("42", mark: .critical)],
                                     [ReplyCell("café ☕"), ReplyCell("active"), ReplyCell("3")]])),
            .note("87% of max_connections is in use: /pg idle shows who holds them.", .warning),
        ], mark: .warning, summary: "87 of 100 connections")),
        ("preview", Reply(title: "Preview (nothing has run yet): /pg terminate 4242", blocks: [
            .text("Would terminate"),
            .code("SELECT pg_terminate_backend(4242) -- 'quoted' <tag>"),
            .keyValues([KeyValue("token", "k7qf2mab"), KeyValue("expires", "2026-12-01 20:05:00 UTC (in 5m)")]),
            .note("To run exactly this: /confirm k7qf2mab (operator). To drop it: /cancel k7qf2mab.", .warning),
        ], mark: .warning)),
        ("empty", Reply(blocks: [.table(ReplyTable(columns: ["pid"], rows: [], emptyText: "No idle sessions."))], mark: .ok)),
    ]
}
