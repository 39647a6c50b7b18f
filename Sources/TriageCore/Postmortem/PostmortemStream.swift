import Foundation
import Synchronization

/// A postmortem document written in one pass over the events: the parts that list events
/// (the timeline table, the outputs, the follow-ups) are sections filled event by event; the
/// head (which needs the summary: counts, moments, participants) and the text between and
/// after the sections are written once the pass is over.
public protocol PostmortemDocument: Sendable {
    /// How many sections are filled event by event.
    var sectionCount: Int { get }
    /// Writes what `e` contributes to each section (`sections` has ``sectionCount`` buffers).
    /// `deliveries` are the provider outcomes to fold into page lines (by ``PageLine/key(_:)``),
    /// known before the pass.
    mutating func event(_ e: TimelineEvent, deliveries: [String: [String]], into sections: inout [TextBuffer])
    /// Everything before section 0.
    func head(_ pm: Postmortem, into out: inout TextBuffer)
    /// The text after section `section` (after the last one: the end of the document).
    func text(after section: Int, _ pm: Postmortem, into out: inout TextBuffer)
    /// What goes between two non-empty parts of `section` written by separate copies of the
    /// document, each starting as if it were the first (a part of the timeline each): JSON's
    /// comma between array elements; nothing for the others.
    func separator(joining section: Int) -> String
}

extension PostmortemDocument {
    public func separator(joining section: Int) -> String { "" }
}

/// Runs a ``PostmortemDocument`` over a timeline: a small first read of the paging lines (to
/// know which delivery lines fold into which page line), then the summary and, meanwhile, the
/// sections, part by part; then the head, the sections and the text between them are handed
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
    /// The two cores share the work. The timeline splits into consecutive parts
    /// (``TimelineEventSource/parts()``), each read once, with every column, for every section;
    /// a thread of its own takes parts in order from the start, and so does this thread once it
    /// has derived the summary (reading the events without their outputs) and written the
    /// head — so whichever core is free takes the next part, however the machine's load falls.
    /// Each thread spools what it writes (one file per section, 1 MiB at a time); the parts are
    /// then copied into the document in order.
    /// - Parameters:
    ///   - spoolDirectory: where section spools go (nil: in memory).
    ///   - emit: receives the document in pieces, in order.
    ///   - output: the file `emit` writes to, if it is one: spooled parts are then copied
    ///     into it by the kernel (`sendfile`), not read back and written again.
    @discardableResult
    public static func render<D: PostmortemDocument>(_ document: D, incident: Incident, source: any TimelineEventSource,
                                                      generatedAt: Date, spoolDirectory: String? = nil, output: FileHandle? = nil,
                                                      emit: ([UInt8]) throws -> Void) throws -> Postmortem {
        let deliveries = try deliveries(source)
        let parts = source.parts() ?? [source]
        let queue = PartQueue(count: parts.count)
        let job = PartJob(document: document, parts: parts, queue: queue, deliveries: deliveries, spoolDirectory: spoolDirectory)
        let helper = parts.count > 1 ? PartThread(job) : nil
        defer { helper?.finish()?.discard() }

        // Everything that came from people or the database is redacted (Redaction).
        let pm: Postmortem
        let mine: PartSet
        do {
            pm = try PostmortemBuilder.build(incident: incident, source: source, generatedAt: generatedAt).redacted()
            var out = TextBuffer(capacity: 65536)
            document.head(pm, into: &out)
            try out.drain(emit)
            mine = try job.run()
        } catch {
            queue.stop()
            throw error
        }
        defer { mine.discard() }
        let theirs = try helper?.waitForParts()
        defer { theirs?.discard() }

        var out = TextBuffer(capacity: 65536)
        for section in 0..<document.sectionCount {
            let separator = document.separator(joining: section)
            var written = false
            for part in parts.indices {
                let (set, range) = try Self.find(part, section: section, in: mine, theirs)
                guard !range.isEmpty else { continue }
                if written && !separator.isEmpty {
                    out.write(separator)
                    try out.drain(emit)
                }
                try set.spools[section].replay(range, emit, into: output)
                written = true
            }
            document.text(after: section, pm, into: &out)
            try out.drain(emit)
        }
        return pm
    }

    /// The spool holding `part`'s share of `section`, and where in it.
    static func find(_ part: Int, section: Int, in a: PartSet, _ b: PartSet?) throws -> (PartSet, Range<Int>) {
        if let r = a.ranges[part] { return (a, r[section]) }
        if let b, let r = b.ranges[part] { return (b, r[section]) }
        throw TriageError(.config, "Part \(part) of the postmortem was not made.")
    }

    /// Renders into memory (small documents, tests, chat).
    public static func string<D: PostmortemDocument>(_ document: D, _ pm: Postmortem) -> String {
        var bytes: [UInt8] = []
        _ = try? render(document, incident: pm.incident, source: pm.source, generatedAt: pm.generatedAt) { bytes += $0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The next part to render, shared by the threads; stopped when one of them fails.
final class PartQueue: Sendable {
    private let state: Mutex<(next: Int, stopped: Bool)>
    let count: Int

    init(count: Int) {
        self.count = count
        state = Mutex((0, false))
    }

    /// The index of the next part nobody has taken, or nil when there is none left.
    func take() -> Int? {
        state.withLock { s -> Int? in
            guard !s.stopped, s.next < count else { return nil }
            defer { s.next += 1 }
            return s.next
        }
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }
}

/// What a thread does: takes parts from the queue and renders each into its spools (one per
/// section), with a fresh copy of the document (every part starts as if it were the first).
struct PartJob<D: PostmortemDocument>: Sendable {
    let document: D
    let parts: [any TimelineEventSource]
    let queue: PartQueue
    let deliveries: [String: [String]]
    let spoolDirectory: String?

    func run() throws -> PartSet {
        let count = document.sectionCount
        var set = PartSet(spools: [], ranges: [:])
        do {
            for _ in 0..<count { set.spools.append(try Spool(directory: spoolDirectory)) }
            var buffers = [TextBuffer](repeating: TextBuffer(), count: count)
            while let index = queue.take() {
                var doc = document
                let starts = set.spools.map(\.size)
                try parts[index].forEachEvent(.all) { e in
                    doc.event(e.redacted(), deliveries: deliveries, into: &buffers)
                    for i in 0..<count where buffers[i].count > TextBuffer.flushSize {
                        try buffers[i].drain { try set.spools[i].append($0) }
                    }
                }
                for i in 0..<count { try buffers[i].drain { try set.spools[i].append($0) } }
                set.ranges[index] = (0..<count).map { starts[$0]..<set.spools[$0].size }
            }
        } catch {
            queue.stop()
            set.discard()
            throw error
        }
        return set
    }
}

/// The other core's share of a postmortem: parts taken from the queue, spooled.
final class PartThread: Sendable {
    private let result = Mutex<Result<PartSet, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    private let waited = Mutex(false)

    init<D: PostmortemDocument>(_ job: PartJob<D>) {
        let thread = Thread { [self] in
            let parts = Result { try job.run() }
            result.withLock { $0 = parts }
            finished.signal()
        }
        thread.name = "triage-postmortem-parts"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for the thread to finish and hands over its spools (throws its error).
    func waitForParts() throws -> PartSet {
        finish()
        let r = result.withLock { r -> Result<PartSet, any Error>? in
            defer { r = .success(PartSet(spools: [], ranges: [:])) }   // handed over: not discarded twice
            return r
        }
        guard let r else { throw TriageError(.config, "The postmortem sections were not made.") }
        return try r.get()
    }

    /// Waits for the thread (once); the spools it made, if any and not handed over.
    @discardableResult
    func finish() -> PartSet? {
        let first = waited.withLock { w -> Bool in
            defer { w = true }
            return !w
        }
        if first { finished.wait() }
        return try? result.withLock { $0 }?.get()
    }
}

/// The spools one thread wrote (one per section) and, per part it rendered, the byte range of
/// each section in them.
struct PartSet: Sendable {
    var spools: [Spool]
    var ranges: [Int: [Range<Int>]]

    func discard() {
        for s in spools { s.discard() }
    }
}

/// One section's bytes: in memory, or in an unlinked-on-discard temporary file.
struct Spool: Sendable {
    private var memory: [UInt8] = []
    private let path: String?
    private let handle: FileHandle?
    /// Bytes appended so far.
    private(set) var size = 0

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
        size += bytes.count
    }

    /// Hands bytes `range` back in pieces, or copies them to the end of `output` in the kernel.
    func replay(_ range: Range<Int>, _ emit: ([UInt8]) throws -> Void, into output: FileHandle? = nil) throws {
        guard !range.isEmpty else { return }
        guard let handle else {
            try emit(Array(memory[range]))
            return
        }
        var offset = off_t(range.lowerBound)
        let end = off_t(range.upperBound)
        if let output {
            while offset < end {
                let n = sendfile(output.fileDescriptor, handle.fileDescriptor, &offset, Int(end - offset))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw TriageError(.config, "Cannot copy a temporary file into the postmortem (errno \(errno))") }
            }
            return
        }
        // Read back through one buffer (no Data, no copy per piece).
        var chunk = [UInt8](repeating: 0, count: TextBuffer.flushSize * 4)
        while offset < end {
            let want = min(chunk.count, Int(end - offset))
            let n = chunk.withUnsafeMutableBytes { pread(handle.fileDescriptor, $0.baseAddress, want, offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw TriageError(.config, "Cannot read a temporary file back (errno \(errno))") }
            offset += off_t(n)
            try emit(n == chunk.count ? chunk : Array(chunk[..<n]))
        }
    }

    func discard() {
        try? handle?.close()
        if let path { unlink(path) }
    }
}
