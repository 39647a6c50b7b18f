import Foundation
import TriageChat
import TriageCore
import TriageHandlers
import TriageStore

/// Loads an incident from the store, renders its postmortem and writes the files:
/// `incident-N.md`, `incident-N-timeline.svg` (beside it) and `incident-N.json`.
///
/// Async code reads with ``postmortem(in:incident:generatedAt:)`` inside `store.read` and
/// writes with ``writeAll(_:)`` (a thread of its own); the command-line tools use the
/// synchronous ``loadNow(incident:generatedAt:)`` and ``write(_:format:to:)``.
public struct PostmortemWriter: Sendable {
    /// One output format.
    public enum Format: String, Sendable, CaseIterable {
        case markdown, json
    }

    let store: BotStore
    public var directory: String

    public init(store: BotStore, directory: String) {
        self.store = store
        self.directory = directory
    }

    /// The postmortem of incident `id`, read in `tx`; nil when there is no such incident.
    public static func postmortem(in tx: StoreTransaction, incident id: Int64, generatedAt: Date) throws -> Postmortem? {
        guard let incident = try tx.incident(id: id) else { return nil }
        return PostmortemBuilder.build(incident: incident, events: try tx.events(incident: id), generatedAt: generatedAt)
    }

    /// The postmortem of incident `id`, synchronously: for the command-line tools only.
    public func loadNow(incident id: Int64, generatedAt: Date) throws -> Postmortem {
        guard let pm = try store.readNow({ tx in try Self.postmortem(in: tx, incident: id, generatedAt: generatedAt) }) else {
            throw TriageError(.notFound, "No incident #\(id) in \(store.path).")
        }
        return pm
    }

    /// Writes Markdown, SVG and JSON into ``directory`` on a thread of its own; returns the files.
    public func writeAll(_ pm: Postmortem) async throws -> [(path: String, what: String)] {
        let base = (directory as NSString).appendingPathComponent(pm.baseFileName)
        let files = try await ThreadExecutor.detached(name: "triage-postmortem") { [self] in
            try FilesWritten(list: write(pm, format: .markdown, to: base + ".md") + write(pm, format: .json, to: base + ".json"))
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
                // The two documents are independent: render them on two threads.
                let rendered = RenderedPair()
                DispatchQueue.concurrentPerform(iterations: 2) { i in
                    if i == 0 { rendered.set(0, SVGTimeline().renderData(pm)) } else { rendered.set(1, MarkdownPostmortem().renderData(pm)) }
                }
                try Self.atomicWrite(rendered.get(0), to: svgPath)
                try Self.atomicWrite(rendered.get(1), to: path)
                return [(path, "postmortem (Markdown)"), (svgPath, "timeline picture (SVG)")]
            case .json:
                try Self.atomicWrite(JSONPostmortem().renderData(pm), to: path)
                return [(path, "postmortem data (JSON)")]
            }
        } catch let e as TriageError {
            throw e
        } catch {
            throw TriageError(.config, "Cannot write the postmortem to \(path): \((error as NSError).localizedDescription)")
        }
    }

    static func atomicWrite(_ data: Data, to path: String) throws {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// Results of rendering on two threads.
private final class RenderedPair: @unchecked Sendable {
    private let lock = NSLock()
    private var values = [Data(), Data()]

    func set(_ i: Int, _ data: Data) { lock.withLock { values[i] = data } }
    func get(_ i: Int) -> Data { lock.withLock { values[i] } }
}

/// The files one thread wrote, handed back to async code.
private struct FilesWritten: @unchecked Sendable {
    var list: [(path: String, what: String)]
}
