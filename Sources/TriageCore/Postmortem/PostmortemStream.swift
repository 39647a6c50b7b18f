import Foundation
import Synchronization

/// A postmortem document written in one pass over the events: the parts that list events
/// (the timeline table, the outputs, the follow-ups) are sections filled event by event; the
/// head (which needs the summary: counts, moments, participants) and the text between and
/// after the sections are written once the pass is over.
public protocol PostmortemDocument: Sendable {
    /// How many sections are filled event by event.
    var sectionCount: Int { get }
    /// Writes what `e` contributes to each section. `deliveries` are the provider outcomes to
    /// fold into page lines (by ``PageLine/key(_:)``), known before the pass.
    mutating func event(_ e: TimelineEvent, deliveries: [String: [String]], into sections: inout [TextBuffer])
    /// Everything before section 0.
    func head(_ pm: Postmortem, into out: inout TextBuffer)
    /// The text after section `section` (after the last one: the end of the document).
    func text(after section: Int, _ pm: Postmortem, into out: inout TextBuffer)
}

/// Runs a ``PostmortemDocument`` over a timeline: a small first read of the paging lines (to
/// know which delivery lines fold into which page line), then one pass over every event that
/// feeds the summary and the sections at once. Sections are spooled to temporary files in
/// 1 MiB pieces (or kept in memory for small documents and tests), then the head, the
/// sections and the text between them are handed to `emit` in order.
public enum PostmortemStream {
    /// The provider delivery outcomes to fold into page lines, from the paging lines alone.
    public static func deliveries(_ source: any TimelineEventSource) throws -> [String: [String]] {
        var keys = Set<String>()
        var out: [String: [String]] = [:]
        try source.forEachEvent(.kinds([.page, .escalation, .acknowledged])) { e in
            if let d = PageLine.delivery(e), keys.contains(d.key) {
                out[d.key, default: []].append(d.note)
            } else if let key = PageLine.key(e) {
                keys.insert(key)
            }
        }
        return out
    }

    /// Renders `document` for `incident`; returns the postmortem summary it was built with.
    ///
    /// Two readers run side by side (the machine has two cores): a thread of its own derives
    /// the summary from the events without their outputs, while this one renders the sections.
    /// Section 0 (the big one: the timeline table, or the JSON events) is spooled only until
    /// the summary is ready; then the head and what was spooled are emitted and the rest of
    /// section 0 goes straight out. The other sections are spooled to the end.
    /// - Parameters:
    ///   - spoolDirectory: where section spools go (nil: in memory).
    ///   - emit: receives the document in pieces, in order.
    @discardableResult
    public static func render<D: PostmortemDocument>(_ document: D, incident: Incident, source: any TimelineEventSource,
                                                      generatedAt: Date, spoolDirectory: String? = nil,
                                                      emit: ([UInt8]) throws -> Void) throws -> Postmortem {
        var doc = document
        let deliveries = try deliveries(source)
        let summary = SummaryThread(incident: incident, source: source, generatedAt: generatedAt)
        defer { _ = summary.wait() }
        var spools = try (0..<doc.sectionCount).map { _ in try Spool(directory: spoolDirectory) }
        defer { for s in spools { s.discard() } }
        var sections = [TextBuffer](repeating: TextBuffer(), count: doc.sectionCount)
        var pm: Postmortem?
        var out = TextBuffer(capacity: 65536)

        /// The summary is here: the head, then section 0 so far; from now on section 0 goes out directly.
        func start(_ ready: Postmortem) throws {
            // Everything that came from people or the database is redacted (Redaction).
            let summary = ready.redacted()
            pm = summary
            doc.head(summary, into: &out)
            try emit(out.take())
            try spools[0].replay(emit)
            spools[0].discard()
            spools[0] = try Spool(directory: nil)
        }

        var n = 0
        try source.forEachEvent(.all) { e in
            doc.event(e.redacted(), deliveries: deliveries, into: &sections)
            n += 1
            if pm == nil, n & 1023 == 0, let ready = try summary.poll() { try start(ready) }
            for i in sections.indices where sections[i].count > TextBuffer.flushSize {
                if i == 0 && pm != nil { try emit(sections[0].take()) } else { try spools[i].append(sections[i].take()) }
            }
        }
        if pm == nil { try start(try summary.wait().get()) }
        guard let pm else { throw TriageError(.config, "The postmortem summary is missing.") }
        try emit(sections[0].take())
        doc.text(after: 0, pm, into: &out)
        for i in sections.indices.dropFirst() {
            try emit(out.take())
            try spools[i].append(sections[i].take())
            try spools[i].replay(emit)
            doc.text(after: i, pm, into: &out)
        }
        try emit(out.take())
        return pm
    }

    /// Renders into memory (small documents, tests, chat).
    public static func string<D: PostmortemDocument>(_ document: D, _ pm: Postmortem) -> String {
        var bytes: [UInt8] = []
        _ = try? render(document, incident: pm.incident, source: pm.source, generatedAt: pm.generatedAt) { bytes += $0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One section's bytes: in memory, or in an unlinked-on-discard temporary file.
struct Spool {
    private var memory: [UInt8] = []
    private let path: String?
    private let handle: FileHandle?

    init(directory: String?) throws {
        guard let directory else {
            path = nil
            handle = nil
            return
        }
        let p = (directory as NSString).appendingPathComponent(".triage-spool-\(getpid())-\(UUID().uuidString.prefix(8))")
        guard FileManager.default.createFile(atPath: p, contents: nil), let h = FileHandle(forUpdatingAtPath: p) else {
            throw TriageError(.config, "Cannot write a temporary file in \(directory)")
        }
        path = p
        handle = h
    }

    mutating func append(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        if let handle { try handle.write(contentsOf: bytes) } else { memory += bytes }
    }

    /// Hands the section back in pieces.
    func replay(_ emit: ([UInt8]) throws -> Void) throws {
        guard let handle else {
            if !memory.isEmpty { try emit(memory) }
            return
        }
        try handle.seek(toOffset: 0)
        while let chunk = try handle.read(upToCount: TextBuffer.flushSize * 4), !chunk.isEmpty {
            try emit([UInt8](chunk))
        }
    }

    func discard() {
        try? handle?.close()
        if let path { unlink(path) }
    }
}

/// The summary of a postmortem derived on a thread of its own.
final class SummaryThread: Sendable {
    private let result = Mutex<Result<Postmortem, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    private let waited = Mutex(false)

    init(incident: Incident, source: any TimelineEventSource, generatedAt: Date) {
        let thread = Thread { [self] in
            let r = Result { try PostmortemBuilder.build(incident: incident, source: source, generatedAt: generatedAt) }
            result.withLock { $0 = r }
            finished.signal()
        }
        thread.name = "triage-postmortem-summary"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The summary if it is ready (throws the builder's error).
    func poll() throws -> Postmortem? {
        try result.withLock { $0 }.map { try $0.get() }
    }

    /// Waits for the thread (once; later calls return at once) and returns its result.
    func wait() -> Result<Postmortem, any Error> {
        let first = waited.withLock { w -> Bool in
            defer { w = true }
            return !w
        }
        if first { finished.wait() }
        return result.withLock { $0 } ?? .failure(TriageError(.config, "The postmortem summary was not made."))
    }
}
