import Foundation
import Synchronization

/// A postmortem document written in one pass over the events: the parts that list events
/// (the timeline table, the outputs, the follow-ups) are sections filled event by event; the
/// head (which needs the summary: counts, moments, participants) and the text between and
/// after the sections are written once the pass is over.
public protocol PostmortemDocument: Sendable {
    /// How many sections are filled event by event.
    var sectionCount: Int { get }
    /// The events section 0 needs (``TimelineEventFilter/summary`` when it needs no outputs).
    var firstSectionEvents: TimelineEventFilter { get }
    /// The events the other sections need.
    var laterSectionEvents: TimelineEventFilter { get }
    /// Writes what `e` contributes to the sections in `filling`. `deliveries` are the provider
    /// outcomes to fold into page lines (by ``PageLine/key(_:)``), known before the pass.
    mutating func event(_ e: TimelineEvent, deliveries: [String: [String]], into sections: inout [TextBuffer], filling: Range<Int>)
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
    /// The two cores share the work: a thread of its own derives the summary (reading the
    /// events without their outputs), then fills the later sections (outputs, follow-ups) from
    /// the events they need, spooled; this thread fills section 0 (the big one: the timeline
    /// table, or the JSON events), spooled only until the summary is ready, then emitted
    /// straight after the head.
    /// - Parameters:
    ///   - spoolDirectory: where section spools go (nil: in memory).
    ///   - emit: receives the document in pieces, in order.
    @discardableResult
    public static func render<D: PostmortemDocument>(_ document: D, incident: Incident, source: any TimelineEventSource,
                                                      generatedAt: Date, spoolDirectory: String? = nil,
                                                      emit: ([UInt8]) throws -> Void) throws -> Postmortem {
        var doc = document
        let deliveries = try deliveries(source)
        let helper = SummaryThread(document: document, incident: incident, source: source, generatedAt: generatedAt,
                                   deliveries: deliveries, spoolDirectory: spoolDirectory)
        defer { helper.finish()?.discard() }
        var first = try Spool(directory: spoolDirectory)
        defer { first.discard() }
        var sections = [TextBuffer](repeating: TextBuffer(), count: doc.sectionCount)
        var pm: Postmortem?
        var out = TextBuffer(capacity: 65536)

        /// The summary is here: the head, then section 0 so far; from now on section 0 goes out directly.
        func start(_ ready: Postmortem) throws {
            // Everything that came from people or the database is redacted (Redaction).
            let summary = ready.redacted()
            pm = summary
            doc.head(summary, into: &out)
            try out.drain(emit)
            try first.replay(emit)
            first.discard()
            first = try Spool(directory: nil)
        }

        var n = 0
        try source.forEachEvent(doc.firstSectionEvents) { e in
            doc.event(e.redacted(), deliveries: deliveries, into: &sections, filling: 0..<1)
            n += 1
            if pm == nil, n & 1023 == 0, let ready = try helper.summary() { try start(ready) }
            if sections[0].count > TextBuffer.flushSize {
                if pm != nil { try sections[0].drain(emit) } else { try sections[0].drain { try first.append($0) } }
            }
        }
        if pm == nil { try start(try helper.waitForSummary()) }
        guard let pm else { throw TriageError(.config, "The postmortem summary is missing.") }
        try sections[0].drain(emit)
        doc.text(after: 0, pm, into: &out)
        let later = try helper.waitForSections()
        defer { for s in later { s.discard() } }
        for i in later.indices {
            try out.drain(emit)
            try later[i].replay(emit)
            doc.text(after: i + 1, pm, into: &out)
        }
        try out.drain(emit)
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
struct Spool: Sendable {
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
        // Read back through one buffer (no Data, no copy per piece).
        var chunk = [UInt8](repeating: 0, count: TextBuffer.flushSize * 4)
        var offset: off_t = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(handle.fileDescriptor, $0.baseAddress, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw TriageError(.config, "Cannot read a temporary file back (errno \(errno))") }
            if n == 0 { break }
            offset += off_t(n)
            if n == chunk.count {
                try emit(chunk)
            } else {
                try emit(Array(chunk[..<n]))
            }
        }
    }

    func discard() {
        try? handle?.close()
        if let path { unlink(path) }
    }
}

/// The other core's share of a postmortem: the summary, then the later sections, spooled.
final class SummaryThread: Sendable {
    private let summaryResult = Mutex<Result<Postmortem, any Error>?>(nil)
    private let sectionsResult = Mutex<Result<SpoolSet, any Error>?>(nil)
    private let summaryReady = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let waited = Mutex(false)

    init<D: PostmortemDocument>(document: D, incident: Incident, source: any TimelineEventSource, generatedAt: Date,
                                deliveries: [String: [String]], spoolDirectory: String?) {
        let thread = Thread { [self] in
            let summary = Result { try PostmortemBuilder.build(incident: incident, source: source, generatedAt: generatedAt) }
            summaryResult.withLock { $0 = summary }
            summaryReady.signal()
            let sections = Result { () throws -> SpoolSet in
                _ = try summary.get()
                var doc = document
                let count = doc.sectionCount
                var set = SpoolSet(spools: try (1..<max(1, count)).map { _ in try Spool(directory: spoolDirectory) })
                do {
                    var buffers = [TextBuffer](repeating: TextBuffer(), count: count)
                    if count > 1 {
                        try source.forEachEvent(doc.laterSectionEvents) { e in
                            doc.event(e.redacted(), deliveries: deliveries, into: &buffers, filling: 1..<count)
                            for i in 1..<count where buffers[i].count > TextBuffer.flushSize {
                                try buffers[i].drain { try set.spools[i - 1].append($0) }
                            }
                        }
                        for i in 1..<count { try buffers[i].drain { try set.spools[i - 1].append($0) } }
                    }
                } catch {
                    set.discard()
                    throw error
                }
                return set
            }
            sectionsResult.withLock { $0 = sections }
            finished.signal()
        }
        thread.name = "triage-postmortem-summary"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The summary if it is ready (throws the builder's error).
    func summary() throws -> Postmortem? {
        try summaryResult.withLock { $0 }.map { try $0.get() }
    }

    func waitForSummary() throws -> Postmortem {
        summaryReady.wait()
        summaryReady.signal()   // later waits return at once
        guard let r = summaryResult.withLock({ $0 }) else { throw TriageError(.config, "The postmortem summary was not made.") }
        return try r.get()
    }

    /// Waits for the thread to finish and hands over the later sections.
    func waitForSections() throws -> [Spool] {
        guard let set = finish() else { throw TriageError(.config, "The postmortem sections were not made.") }
        sectionsResult.withLock { $0 = .success(SpoolSet(spools: [])) }   // handed over: not discarded twice
        return set.spools
    }

    /// Waits for the thread (once); the sections it made, if any and not handed over.
    @discardableResult
    func finish() -> SpoolSet? {
        let first = waited.withLock { w -> Bool in
            defer { w = true }
            return !w
        }
        if first { finished.wait() }
        return try? sectionsResult.withLock { $0 }?.get()
    }
}

/// The spools of the later sections, handed from the helper thread to the caller.
struct SpoolSet: Sendable {
    var spools: [Spool]

    func discard() { for s in spools { s.discard() } }
}
