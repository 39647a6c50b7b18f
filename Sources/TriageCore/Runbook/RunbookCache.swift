import Foundation

/// Parsed runbook files kept between runs, so that a process that starts for one command
/// (`triage console` in a pipe, a cron probe) does not parse and check 140 KB of YAML first:
/// that was 15–20 ms of a 45 ms `/ping`.
///
/// One small JSON file per runbook file, under `runbook/` in the cache folder. An entry is
/// used only when the file's bytes (length and 64-bit FNV-1a hash of the content, not its
/// time stamps, which are coarse) and the binary that wrote it (size and modification time of
/// the executable: a new build may parse differently) are the same. A file with an error is
/// never cached, so its error is reported on every start; an entry or folder another user
/// could write is not read. The cache is only an accelerator:
/// when it cannot be read or written, files are parsed as if there were none.
public struct RunbookCache: Sendable {
    /// The folder the entries go in.
    public let folder: String
    /// Who wrote an entry: the executable's size and modification time.
    let binary: String

    /// Format of the entries; bump when their shape changes.
    static let format = 1

    /// One cached file.
    struct Entry: Codable {
        var format: Int
        var binary: String
        var path: String
        var length: Int
        var hash: UInt64
        var section: RunbookSection
        var declarations: [CommandDeclaration]
    }

    public init(folder: String, binary: String = RunbookCache.executableIdentity()) {
        self.folder = folder
        self.binary = binary
    }

    /// The cache for this process: `TRIAGE_CACHE_DIR` (empty: no cache), else
    /// `$XDG_CACHE_HOME/triage`, else `~/.cache/triage`; nil when there is no such place.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> RunbookCache? {
        let root: String
        if let explicit = environment["TRIAGE_CACHE_DIR"] {
            guard !explicit.isEmpty else { return nil }
            root = explicit
        } else if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            root = (xdg as NSString).appendingPathComponent("triage")
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            root = (home as NSString).appendingPathComponent(".cache/triage")
        } else {
            return nil
        }
        return RunbookCache(folder: (root as NSString).appendingPathComponent("runbook"))
    }

    /// Size and modification time of the running executable (empty when unknown: then
    /// nothing is cached, since a rebuilt binary could not be told apart).
    public static func executableIdentity() -> String {
        var st = stat()
        guard stat("/proc/self/exe", &st) == 0 else { return "" }
        return "\(st.st_size)-\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    /// 64-bit FNV-1a of `bytes`.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// Where the entry for runbook file `path` lives.
    func entryPath(for path: String) -> String {
        let key = path.utf8.withContiguousStorageIfAvailable { Self.hash(UnsafeRawBufferPointer($0)) }
            ?? Array(path.utf8).withUnsafeBytes { Self.hash($0) }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            .filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        return (folder as NSString).appendingPathComponent("\(name.prefix(40))-\(String(key, radix: 16)).json")
    }

    /// Whether `path` is this user's and nobody else may write it: an entry is SQL that runs
    /// unchecked, so one another user could have planted (a shared `TRIAGE_CACHE_DIR`) is
    /// parsed again instead.
    static func isPrivate(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_uid == geteuid() && st.st_mode & 0o022 == 0
    }

    /// The parsed file, if the cache holds it for exactly these bytes.
    func lookup(path: String, length: Int, hash: UInt64) -> (RunbookSection, [CommandDeclaration])? {
        let entry = entryPath(for: path)
        guard !binary.isEmpty, Self.isPrivate(folder), Self.isPrivate(entry), let data = FileManager.default.contents(atPath: entry),
              let e = try? JSONDecoder().decode(Entry.self, from: data),
              e.format == Self.format, e.binary == binary, e.path == path, e.length == length, e.hash == hash else { return nil }
        return (e.section, e.declarations)
    }

    /// Keeps the parsed file for the next run (written to a temporary file, then renamed:
    /// a reader never sees half an entry). Failures are ignored.
    func store(path: String, length: Int, hash: UInt64, section: RunbookSection, declarations: [CommandDeclaration]) {
        guard !binary.isEmpty else { return }
        let entry = Entry(format: Self.format, binary: binary, path: path, length: length, hash: hash,
                          section: section, declarations: declarations)
        guard let data = try? JSONEncoder().encode(entry) else { return }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let target = entryPath(for: path)
        let temp = target + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
        if rename(temp, target) != 0 { unlink(temp) }
    }
}
