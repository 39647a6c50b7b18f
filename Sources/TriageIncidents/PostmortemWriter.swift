import Foundation
import TriageChat
import TriageCore
import TriageHandlers
import TriageStore

/// The timeline of one incident read from the store, row by row, for as many passes as a
/// renderer makes; `upTo` pins it to the events the summary saw (an open incident grows).
/// Each pass is a read of its own: use it from a thread of its own or the command-line
/// tools, never from the cooperative pool.
public struct StoreTimelineSource: TimelineEventSource {
    let store: BotStore
    let incident: Int64
    /// The first and last event ids the summary covers.
    let from: Int64
    let upTo: Int64

    public func forEachEvent(_ filter: TimelineEventFilter, _ body: (TimelineEvent) throws -> Void) throws {
        try store.readNow { tx in try tx.forEachEvent(incident: incident, filter: filter, from: from, upTo: upTo, body) }
    }

    /// Below this many event ids, one thread reads the whole timeline.
    static let splitAbove: Int64 = 1000
    /// About how many parts a long timeline splits into: small enough that the cores finish
    /// together however the load falls, large enough that a part's read costs little to start.
    static let partCount: Int64 = 64

    /// The id range in consecutive parts of at least ``splitAbove`` ids.
    public func parts() -> [any TimelineEventSource]? {
        guard from > 0, upTo - from >= Self.splitAbove else { return nil }
        let size = max(Self.splitAbove, (upTo - from + Self.partCount) / Self.partCount)
        return stride(from: from, through: upTo, by: Int(truncatingIfNeeded: size)).map {
            StoreTimelineSource(store: store, incident: incident, from: $0, upTo: min(upTo, $0 + size - 1))
        }
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

    let store: BotStore
    public var directory: String

    public init(store: BotStore, directory: String) {
        self.store = store
        self.directory = directory
    }

    /// The postmortem of incident `id`, summarised in `tx` (one pass over its events); the
    /// renderers read the events again from `store`. Nil when there is no such incident.
    public static func postmortem(in tx: StoreTransaction, incident id: Int64, generatedAt: Date, store: BotStore) throws -> Postmortem? {
        guard let incident = try tx.incident(id: id) else { return nil }
        var builder = PostmortemBuilder(incident: incident, generatedAt: generatedAt)
        let (first, last) = try tx.eventIDRange(incident: id)
        try tx.forEachEvent(incident: id, from: first, upTo: last) { builder.add($0) }
        return builder.finish(source: StoreTimelineSource(store: store, incident: id, from: first, upTo: last))
    }

    /// The postmortem of incident `id`, synchronously: for the command-line tools only.
    public func loadNow(incident id: Int64, generatedAt: Date) throws -> Postmortem {
        let store = self.store
        guard let pm = try store.readNow({ tx in try Self.postmortem(in: tx, incident: id, generatedAt: generatedAt, store: store) }) else {
            throw TriageError(.notFound, "No incident #\(id) in \(store.path).")
        }
        return pm
    }

    /// Incident `id` and its timeline as a source to stream (no pass over the events yet):
    /// for the command-line tools, which render in one pass.
    public func sourceNow(incident id: Int64) throws -> (Incident, StoreTimelineSource) {
        let store = self.store
        guard let found = try store.readNow({ tx -> (Incident, (first: Int64, last: Int64))? in
            guard let incident = try tx.incident(id: id) else { return nil }
            return (incident, try tx.eventIDRange(incident: id))
        }) else {
            throw TriageError(.notFound, "No incident #\(id) in \(store.path).")
        }
        return (found.0, StoreTimelineSource(store: store, incident: id, from: found.1.first, upTo: found.1.last))
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

    /// Writes one format of `pm` to `path` (Markdown also writes the SVG beside it); returns the files.
    public func write(_ pm: Postmortem, format: Format, to path: String) throws -> [(path: String, what: String)] {
        try write(incident: pm.incident, source: pm.source, generatedAt: pm.generatedAt, format: format, to: path)
    }

    /// Writes one format to `path` in one pass over the events (Markdown also writes the SVG
    /// beside it); `path` `-` is standard output (Markdown without the picture). Returns the files.
    public func write(incident: Incident, source: any TimelineEventSource, generatedAt: Date, format: Format,
                      to path: String) throws -> [(path: String, what: String)] {
        if path == "-" {
            let out = FileHandle.standardOutput
            let spool = NSTemporaryDirectory()
            let emit: ([UInt8]) throws -> Void = { try out.write(contentsOf: $0) }
            switch format {
            case .markdown:
                try PostmortemStream.render(MarkdownPostmortem(includesPicture: false), incident: incident, source: source,
                                            generatedAt: generatedAt, spoolDirectory: spool, emit: emit)
            case .html:
                try PostmortemStream.render(HTMLPostmortem(), incident: incident, source: source, generatedAt: generatedAt,
                                            spoolDirectory: spool, emit: emit)
            case .json:
                try PostmortemStream.render(JSONPostmortem(), incident: incident, source: source, generatedAt: generatedAt,
                                            spoolDirectory: spool, emit: emit)
            }
            return []
        }
        let dir = (path as NSString).deletingLastPathComponent
        do {
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            let spool = dir.isEmpty ? "." : dir
            switch format {
            case .markdown:
                let pm = try Self.atomicWrite(to: path) { file, emit in
                    try PostmortemStream.render(MarkdownPostmortem(), incident: incident, source: source, generatedAt: generatedAt,
                                                spoolDirectory: spool, output: file, emit: emit)
                }
                let svgPath = (dir as NSString).appendingPathComponent(pm.svgFileName)
                _ = try Self.atomicWrite(to: svgPath) { _, emit in
                    try emit(Array(SVGTimeline().render(pm).utf8))
                    return pm
                }
                return [(path, "postmortem (Markdown)"), (svgPath, "timeline picture (SVG)")]
            case .html:
                _ = try Self.atomicWrite(to: path) { file, emit in
                    try PostmortemStream.render(HTMLPostmortem(), incident: incident, source: source, generatedAt: generatedAt,
                                                spoolDirectory: spool, output: file, emit: emit)
                }
                return [(path, "postmortem (HTML, self-contained)")]
            case .json:
                _ = try Self.atomicWrite(to: path) { file, emit in
                    try PostmortemStream.render(JSONPostmortem(), incident: incident, source: source, generatedAt: generatedAt,
                                                spoolDirectory: spool, output: file, emit: emit)
                }
                return [(path, "postmortem data (JSON)")]
            }
        } catch let e as TriageError {
            throw e
        } catch {
            throw TriageError(.config, "Cannot write the postmortem to \(path): \((error as NSError).localizedDescription)")
        }
    }

    /// Writes what `render` emits into a temporary file beside `path`, then renames it over `path`.
    static func atomicWrite(to path: String, _ render: (FileHandle, ([UInt8]) throws -> Void) throws -> Postmortem) throws -> Postmortem {
        let temp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: nil), let handle = FileHandle(forWritingAtPath: temp) else {
            throw TriageError(.config, "Cannot write the postmortem to \(path): cannot create \(temp)")
        }
        do {
            let pm = try render(handle) { bytes in try handle.write(contentsOf: bytes) }
            try handle.close()
            if rename(temp, path) != 0 {
                throw TriageError(.config, "Cannot write the postmortem to \(path): rename failed (errno \(errno))")
            }
            return pm
        } catch {
            try? handle.close()
            unlink(temp)
            throw error
        }
    }
}

/// The files one thread wrote, handed back to async code (tuples of strings only).
// @unchecked: tuples of strings, built on one thread and read after it finished.
private struct FilesWritten: @unchecked Sendable {
    var list: [(path: String, what: String)]
}
