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
    /// Makes this copy go on with section 0 after events another copy wrote (section 0 can
    /// be filled in two halves, on two threads).
    mutating func resumeFirstSection()
}

extension PostmortemDocument {
    public mutating func resumeFirstSection() {}
}

/// Runs a ``PostmortemDocument`` over a timeline: a small first read of the paging lines (to
/// know which delivery lines fold into which page line), then the summary, then the sections.
/// Sections are spooled to temporary files in 1 MiB pieces (or kept in memory for small
/// documents and tests), then the head, the sections and the text between them are handed
/// to `emit` in order.
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
    /// The two cores share the work: a thread of its own fills the later sections (outputs,
    /// follow-ups) and, when the source splits in halves, the second half of section 0 (the
    /// big one: the timeline table, or the JSON events), reading the second half once for
    /// all of them; none of it needs the summary, and all of it is spooled. Meanwhile this
    /// thread derives the summary (reading the events without their outputs), writes the
    /// head, streams the first half of section 0 straight out, then the spools in order.
    /// - Parameters:
    ///   - spoolDirectory: where section spools go (nil: in memory).
    ///   - emit: receives the document in pieces, in order.
    ///   - output: the file `emit` writes to, if it is one: spooled sections are then copied
    ///     into it by the kernel (`sendfile`), not read back and written again.
    @discardableResult
    public static func render<D: PostmortemDocument>(_ document: D, incident: Incident, source: any TimelineEventSource,
                                                      generatedAt: Date, spoolDirectory: String? = nil, output: FileHandle? = nil,
                                                      emit: ([UInt8]) throws -> Void) throws -> Postmortem {
        var doc = document
        let deliveries = try deliveries(source)
        let halves = source.halves()
        let helper = SectionThread(document: document, source: source, halves: halves,
                                   deliveries: deliveries, spoolDirectory: spoolDirectory)
        defer { helper.finish()?.discard() }

        // Everything that came from people or the database is redacted (Redaction).
        let pm = try PostmortemBuilder.build(incident: incident, source: source, generatedAt: generatedAt).redacted()
        var out = TextBuffer(capacity: 65536)
        doc.head(pm, into: &out)
        try out.drain(emit)
        var sections = [TextBuffer](repeating: TextBuffer(), count: doc.sectionCount)
        try (halves?.first ?? source).forEachEvent(doc.firstSectionEvents) { e in
            doc.event(e.redacted(), deliveries: deliveries, into: &sections, filling: 0..<1)
            if sections[0].count > TextBuffer.flushSize { try sections[0].drain(emit) }
        }
        try sections[0].drain(emit)
        let spools = try helper.waitForSections()
        defer { spools.discard() }
        try spools.firstSecondHalf?.replay(emit, into: output)
        doc.text(after: 0, pm, into: &out)
        for i in spools.later.indices {
            try out.drain(emit)
            try spools.later[i].replay(emit, into: output)
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

    /// Hands the section back in pieces, or copies it to the end of `output` in the kernel.
    func replay(_ emit: ([UInt8]) throws -> Void, into output: FileHandle? = nil) throws {
        guard let handle else {
            if !memory.isEmpty { try emit(memory) }
            return
        }
        if let output {
            var offset: off_t = 0
            let size = lseek(handle.fileDescriptor, 0, SEEK_END)
            while offset < size {
                let n = sendfile(output.fileDescriptor, handle.fileDescriptor, &offset, Int(size - offset))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw TriageError(.config, "Cannot copy a temporary file into the postmortem (errno \(errno))") }
            }
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

/// The other core's share of a postmortem: the second half of section 0, then the later
/// sections, spooled.
final class SectionThread: Sendable {
    private let result = Mutex<Result<SpoolSet, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    private let waited = Mutex(false)

    /// - Parameter halves: the source in two halves, when it splits: section 0's second half
    ///   is then this thread's, and it reads the second half once for every section.
    init<D: PostmortemDocument>(document: D, source: any TimelineEventSource,
                                halves: (first: any TimelineEventSource, second: any TimelineEventSource)?,
                                deliveries: [String: [String]], spoolDirectory: String?) {
        let thread = Thread { [self] in
            let sections = Result { () throws -> SpoolSet in
                let count = document.sectionCount
                var set = SpoolSet(firstSecondHalf: nil, later: [])
                do {
                    var buffers = [TextBuffer](repeating: TextBuffer(), count: count)
                    var later = document
                    let laterEvents = later.laterSectionEvents
                    for _ in 1..<max(1, count) { set.later.append(try Spool(directory: spoolDirectory)) }
                    func drainLater(over limit: Int) throws {
                        for i in 1..<count where buffers[i].count > limit {
                            try buffers[i].drain { try set.later[i - 1].append($0) }
                        }
                    }
                    if let halves, count > 0 {
                        // The later sections' events of the first half…
                        if count > 1 {
                            try halves.first.forEachEvent(laterEvents) { e in
                                later.event(e.redacted(), deliveries: deliveries, into: &buffers, filling: 1..<count)
                                try drainLater(over: TextBuffer.flushSize)
                            }
                        }
                        // …then one read of the second half for section 0 and the later sections.
                        var first = document
                        first.resumeFirstSection()
                        let firstEvents = first.firstSectionEvents
                        set.firstSecondHalf = try Spool(directory: spoolDirectory)
                        try halves.second.forEachEvent(.all) { e in
                            let r = e.redacted()
                            if firstEvents.matches(r) {
                                var e0 = r
                                // As a source reads them for that filter: an empty output stands for one that is there.
                                if firstEvents == .withoutOutputs || firstEvents == .summary { e0.output = r.output.map { _ in "" } }
                                first.event(e0, deliveries: deliveries, into: &buffers, filling: 0..<1)
                                if buffers[0].count > TextBuffer.flushSize { try buffers[0].drain { try set.firstSecondHalf?.append($0) } }
                            }
                            if count > 1, laterEvents.matches(r) {
                                later.event(r, deliveries: deliveries, into: &buffers, filling: 1..<count)
                                try drainLater(over: TextBuffer.flushSize)
                            }
                        }
                        try buffers[0].drain { try set.firstSecondHalf?.append($0) }
                    } else if count > 1 {
                        try source.forEachEvent(laterEvents) { e in
                            later.event(e.redacted(), deliveries: deliveries, into: &buffers, filling: 1..<count)
                            try drainLater(over: TextBuffer.flushSize)
                        }
                    }
                    if count > 1 { try drainLater(over: 0) }
                } catch {
                    set.discard()
                    throw error
                }
                return set
            }
            result.withLock { $0 = sections }
            finished.signal()
        }
        thread.name = "triage-postmortem-sections"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for the thread to finish and hands over its spools (throws its error).
    func waitForSections() throws -> SpoolSet {
        finish()
        let r = result.withLock { r -> Result<SpoolSet, any Error>? in
            defer { r = .success(SpoolSet(firstSecondHalf: nil, later: [])) }   // handed over: not discarded twice
            return r
        }
        guard let r else { throw TriageError(.config, "The postmortem sections were not made.") }
        return try r.get()
    }

    /// Waits for the thread (once); the spools it made, if any and not handed over.
    @discardableResult
    func finish() -> SpoolSet? {
        let first = waited.withLock { w -> Bool in
            defer { w = true }
            return !w
        }
        if first { finished.wait() }
        return try? result.withLock { $0 }?.get()
    }
}

/// The spools the helper thread made, handed from it to the caller.
struct SpoolSet: Sendable {
    /// Section 0's second half, when the source was split.
    var firstSecondHalf: Spool?
    /// Sections 1 and after.
    var later: [Spool]

    func discard() {
        firstSecondHalf?.discard()
        for s in later { s.discard() }
    }
}
