import Foundation
import TriageCore
import TriageStore

/// The timeline of one incident read from the store, row by row, for as many passes as a
/// renderer makes; `upTo` pins it to the events the summary saw (an open incident grows).
/// Each pass is a read of its own: use it from a thread of its own or the command-line
/// tools, never from the cooperative pool.
public struct StoreTimelineSource: TimelineEventSource {
    let store: TimelineStore
    let incident: Int64
    let upTo: Int64

    public func forEachEvent(_ filter: TimelineEventFilter, _ body: (TimelineEvent) throws -> Void) throws {
        try store.readNow { tx in try tx.forEachEvent(incident: incident, filter: filter, upTo: upTo, body) }
    }
}

/// Loads an incident from the store, renders its postmortem and writes the files:
/// `incident-N.md`, `incident-N-timeline.svg` (beside it), `incident-N.html` and `incident-N.json`.
/// Events are streamed from SQLite and documents written in pieces, so memory stays flat for
/// any number of events.
///
/// Async code reads with ``postmortem(in:incident:generatedAt:store:)`` inside `store.read` and
/// writes with ``writeAll(_:)`` (a thread of its own); the command-line tools use the
/// synchronous ``loadNow(incident:generatedAt:)`` and ``write(_:format:to:)``.
public struct PostmortemWriter: Sendable {
    /// One output format.
    public enum Format: String, Sendable, CaseIterable {
        case markdown, json, html

        public var fileExtension: String {
            switch self {
            case .markdown: "md"
            case .json: "json"
            case .html: "html"
            }
        }
    }

    let store: TimelineStore
    public var directory: String

    public init(store: TimelineStore, directory: String) {
        self.store = store
        self.directory = directory
    }

    /// The postmortem of incident `id`, summarised in `tx` (one pass over its events); the
    /// renderers read the events again from `store`. Nil when there is no such incident.
    public static func postmortem(in tx: StoreTransaction, incident id: Int64, generatedAt: Date, store: TimelineStore) throws -> Postmortem? {
        guard let incident = try tx.incident(id: id) else { return nil }
        var builder = PostmortemBuilder(incident: incident, generatedAt: generatedAt)
        var last: Int64 = 0
        try tx.forEachEvent(incident: id) { e in
            builder.add(e)
            last = max(last, e.id ?? 0)
        }
        return builder.finish(source: StoreTimelineSource(store: store, incident: id, upTo: last))
    }

    /// The postmortem of incident `id`, synchronously: for the command-line tools only.
    public func loadNow(incident id: Int64, generatedAt: Date) throws -> Postmortem {
        let store = self.store
        guard let pm = try store.readNow({ tx in try Self.postmortem(in: tx, incident: id, generatedAt: generatedAt, store: store) }) else {
            throw TriageError(.notFound, "No incident #\(id) in \(store.path).")
        }
        return pm
    }

    /// Writes Markdown (and the SVG), HTML and JSON into ``directory`` on a thread of its own; returns the files.
    public func writeAll(_ pm: Postmortem) async throws -> [(path: String, what: String)] {
        let base = (directory as NSString).appendingPathComponent(pm.baseFileName)
        let files = try await ThreadExecutor.detached(name: "triage-postmortem") { [self] in
            try FilesWritten(list: write(pm, format: .markdown, to: base + ".md") + write(pm, format: .html, to: base + ".html")
                             + write(pm, format: .json, to: base + ".json"))
        }
        return files.list
    }

    /// Writes one format to `path` (Markdown also writes the SVG beside it); returns the files.
    public func write(_ pm: Postmortem, format: Format, to path: String) throws -> [(path: String, what: String)] {
        let dir = (path as NSString).deletingLastPathComponent
        do {
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            switch format {
            case .markdown:
                let svgPath = (dir as NSString).appendingPathComponent(pm.svgFileName)
                try Self.atomicWrite(to: svgPath) { out, _ in out.write(SVGTimeline().render(pm)) }
                try Self.atomicWrite(to: path) { out, flush in try MarkdownPostmortem().write(pm, into: &out, flush: flush) }
                return [(path, "postmortem (Markdown)"), (svgPath, "timeline picture (SVG)")]
            case .html:
                try Self.atomicWrite(to: path) { out, flush in try HTMLPostmortem().write(pm, into: &out, flush: flush) }
                return [(path, "postmortem (HTML, self-contained)")]
            case .json:
                try Self.atomicWrite(to: path) { out, flush in try JSONPostmortem().write(pm, into: &out, flush: flush) }
                return [(path, "postmortem data (JSON)")]
            }
        } catch let e as TriageError {
            throw e
        } catch {
            throw TriageError(.config, "Cannot write the postmortem to \(path): \((error as NSError).localizedDescription)")
        }
    }

    /// Renders to standard output, in pieces.
    public static func writeToStandardOutput(_ render: (inout TextBuffer, (inout TextBuffer) throws -> Void) throws -> Void) throws {
        let handle = FileHandle.standardOutput
        var out = TextBuffer(capacity: TextBuffer.flushSize + 65536)
        try render(&out) { buf in try handle.write(contentsOf: buf.take()) }
        try handle.write(contentsOf: out.take())
    }

    /// Renders into a temporary file beside `path`, in pieces, then renames it over `path`.
    static func atomicWrite(to path: String, _ render: (inout TextBuffer, (inout TextBuffer) throws -> Void) throws -> Void) throws {
        let temp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: nil), let handle = FileHandle(forWritingAtPath: temp) else {
            throw TriageError(.config, "Cannot write the postmortem to \(path): cannot create \(temp)")
        }
        do {
            var out = TextBuffer(capacity: TextBuffer.flushSize + 65536)
            try render(&out) { buf in try handle.write(contentsOf: buf.take()) }
            try handle.write(contentsOf: out.take())
            try handle.close()
            if rename(temp, path) != 0 {
                throw TriageError(.config, "Cannot write the postmortem to \(path): rename failed (errno \(errno))")
            }
        } catch {
            try? handle.close()
            unlink(temp)
            throw error
        }
    }
}

/// The files one thread wrote, handed back to async code (tuples of strings only).
private struct FilesWritten: @unchecked Sendable {
    var list: [(path: String, what: String)]
}
