import Foundation
import TriageCore
import TriageStore

/// Loads an incident from the store, renders its postmortem and writes the files:
/// `incident-N.md`, `incident-N-timeline.svg` (beside it) and `incident-N.json`.
/// Synchronous: call it from a thread of your own, never from the cooperative pool.
public struct PostmortemWriter: Sendable {
    /// One output format.
    public enum Format: String, Sendable, CaseIterable {
        case markdown, json
    }

    /// What was written.
    public struct Written: Sendable {
        public var postmortem: Postmortem
        public var files: [(path: String, what: String)]
    }

    let store: TimelineStore
    public var directory: String

    public init(store: TimelineStore, directory: String) {
        self.store = store
        self.directory = directory
    }

    /// The postmortem of incident `id`.
    public func load(incident id: Int64, generatedAt: Date) throws -> Postmortem {
        let loaded: (Incident, [TimelineEvent])? = try store.readNow { tx in
            guard let i = try tx.incident(id: id) else { return nil }
            return (i, try tx.events(incident: id))
        }
        guard let (incident, events) = loaded else { throw TriageError(.notFound, "No incident #\(id) in \(store.path).") }
        return PostmortemBuilder.build(incident: incident, events: events, generatedAt: generatedAt)
    }

    /// Writes Markdown, SVG and JSON into ``directory``.
    public func writeAll(incident id: Int64, generatedAt: Date) throws -> Written {
        let pm = try load(incident: id, generatedAt: generatedAt)
        let base = (directory as NSString).appendingPathComponent(pm.baseFileName)
        var files: [(String, String)] = []
        files.append(contentsOf: try write(pm, format: .markdown, to: base + ".md"))
        files.append(contentsOf: try write(pm, format: .json, to: base + ".json"))
        return Written(postmortem: pm, files: files)
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
