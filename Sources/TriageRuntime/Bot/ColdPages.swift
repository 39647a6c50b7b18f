import Foundation
import Synchronization
import TriageCore
#if canImport(Glibc)
import Glibc
#endif

/// Hands the clean file pages a bot no longer uses back to the kernel, so that idle it
/// holds what it serves with and little else.
///
/// Why a long-running bot needs it: the static binary's text is 22 MB, and the kernel maps
/// file pages in large folios and fault-around blocks, so once start-up has run (argument
/// parsing, YAML, migrations, runbook loading, every plug-in's set-up) almost all of the text
/// is resident, and so are the parts of ICU's data tables that start-up read; serving uses
/// about half of it. `MADV_PAGEOUT` on the file mappings drops the clean pages only this
/// process maps; what serving needs faults back in on first use (measured: the next command
/// 10–35 ms slower, once). Pages a write made private (no swap to put them in) stay. Done
/// after serving has begun, not at the end of start-up: the first commands touch code all
/// over the binary (the runtime's first conformance lookups scan every record) and would
/// make most of it resident again. On kernels without `MADV_PAGEOUT` (before 5.4) it does
/// nothing.
public enum ColdPages {
    /// When the last page-out was made, for the whole process (every outbox may ask).
    private static let schedule = Mutex(Schedule())

    /// At most one page-out in ``minimumInterval`` seconds: each costs the next command a
    /// few faults. The first is always due.
    struct Schedule {
        static let minimumInterval: Double = 600
        var last: Date?

        /// Whether a page-out is due at `now` (and, if so, noted as made then). A clock that
        /// went back makes it due: no reason to wait longer than the interval.
        mutating func due(now: Date) -> Bool {
            if let last, now >= last, now.timeIntervalSince(last) < Self.minimumInterval { return false }
            last = now
            return true
        }
    }

    /// Pages out, on a thread of its own (reclaiming tens of MB is synchronous in the kernel:
    /// not on the cooperative pool), unless that was done less than ten minutes before `now`.
    /// - Returns: whether a page-out was started.
    @discardableResult
    public static func pageOutIfDue(now: Date) -> Bool {
        guard schedule.withLock({ $0.due(now: now) }) else { return false }
        ThreadExecutor.detach(name: "triage-pageout") { pageOut() }
        return true
    }

    /// `MADV_PAGEOUT` from `<linux/mman.h>` (not in every Glibc module map).
    static let pageOutAdvice: Int32 = 21

    /// One mapping of `/proc/self/maps` worth paging out.
    struct Mapping: Equatable {
        var start: UInt
        var end: UInt
        var path: String
    }

    /// The file-backed mappings in a `/proc/PID/maps` text: code (`r-xp`), constants (`r--p`)
    /// and data (`rw-p`: the binary's 37 MB writable segment holds ICU's data tables) of the
    /// binary and its libraries. Lines that do not parse are skipped.
    static func fileMappings(_ maps: String) -> [Mapping] {
        var out: [Mapping] = []
        for line in maps.split(separator: "\n") {
            // start-end perms offset dev inode path
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, ["r-xp", "r--p", "rw-p"].contains(fields[1]), fields[4] != "0" else { continue }
            let path = fields[5].trimmingCharacters(in: .whitespaces)
            guard path.hasPrefix("/") else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                  end > start else { continue }
            out.append(Mapping(start: start, end: end, path: path))
        }
        return out
    }

    /// Advises the kernel to page out this process's file mappings (their clean pages).
    /// - Returns: the bytes of address space advised (0 where the kernel refused or the
    ///   maps could not be read).
    @discardableResult
    public static func pageOut() -> UInt {
        #if os(Linux)
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return 0 }
        var advised: UInt = 0
        for m in fileMappings(maps) {
            guard let address = UnsafeMutableRawPointer(bitPattern: m.start) else { continue }
            let length = Int(bitPattern: m.end - m.start)
            if madvise(address, length, pageOutAdvice) == 0 {
                advised += m.end - m.start
            }
        }
        return advised
        #else
        return 0
        #endif
    }

    /// Resident file-backed memory of this process in bytes (`RssFile` of `/proc/self/status`),
    /// nil where there is none to read.
    public static func residentFileBytes() -> UInt? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("RssFile:") {
            let kb = line.dropFirst("RssFile:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { UInt($0) }
            return kb.map { $0.multipliedReportingOverflow(by: 1024).partialValue }
        }
        return nil
    }
}
