import Foundation
import Testing
@testable import TriageCore

/// The parsed-runbook cache: a hit gives exactly what parsing gives, and anything that could
/// make it stale (other bytes, another binary, an error) means parsing again.
@Suite struct RunbookCacheTests {
    static var commandsDirectory: String { RunbookLoaderTests.commandsDirectory }

    static func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rbc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func encoded(_ o: RunbookLoader.Outcome) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return try e.encode(o.declarations) + e.encode(o.sections)
    }

    @Test func aHitGivesWhatParsingGives() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = RunbookCache(folder: folder.path, binary: "test-binary")
        let parsed = RunbookLoader(cache: nil).load(directory: Self.commandsDirectory)
        let first = RunbookLoader(cache: cache).load(directory: Self.commandsDirectory)
        let entries = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.commandsDirectory).filter { $0.hasSuffix(".yaml") }
        #expect(entries.count == files.count)
        let second = RunbookLoader(cache: cache).load(directory: Self.commandsDirectory)
        #expect(parsed.errors.isEmpty && second.errors.isEmpty)
        #expect(try Self.encoded(first) == Self.encoded(parsed))
        #expect(try Self.encoded(second) == Self.encoded(parsed))
        #expect(second.declarations.count == parsed.declarations.count && parsed.declarations.count >= 40)
    }

    /// A tampered entry shows the cache is read; the same file with other bytes of the same
    /// length (a time stamp could not tell), or another binary, is parsed again.
    @Test func otherBytesOrAnotherBinaryAreParsedAgain() throws {
        let folder = try Self.temporaryFolder()
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder); try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("01.yaml")
        let text = "section: S\ncommands:\n  - name: pg one\n    summary: first\n    steps: [{sql: SELECT 1}]\n"
        try text.write(to: file, atomically: false, encoding: .utf8)
        let cache = RunbookCache(folder: folder.path, binary: "build-1")
        #expect(RunbookLoader(cache: cache).load(directory: dir.path).declarations.map(\.summary) == ["first"])

        let entry = cache.entryPath(for: file.path)
        let stored = try String(contentsOfFile: entry, encoding: .utf8)
        #expect(stored.contains("\"first\""))
        try stored.replacingOccurrences(of: "\"first\"", with: "\"FROM-CACHE\"").write(toFile: entry, atomically: true, encoding: .utf8)
        #expect(RunbookLoader(cache: cache).load(directory: dir.path).declarations.map(\.summary) == ["FROM-CACHE"])

        // An entry others could have written is not trusted, nor one in a folder they can write.
        chmod(entry, 0o666)
        #expect(RunbookLoader(cache: cache).load(directory: dir.path).declarations.map(\.summary) == ["first"])
        try stored.replacingOccurrences(of: "\"first\"", with: "\"FROM-CACHE\"").write(toFile: entry, atomically: true, encoding: .utf8)
        chmod(entry, 0o600)
        chmod(folder.path, 0o777)
        #expect(RunbookLoader(cache: cache).load(directory: dir.path).declarations.map(\.summary) == ["first"])
        chmod(folder.path, 0o700)
        try stored.replacingOccurrences(of: "\"first\"", with: "\"FROM-CACHE\"").write(toFile: entry, atomically: true, encoding: .utf8)
        chmod(entry, 0o600)
        #expect(RunbookLoader(cache: cache).load(directory: dir.path).declarations.map(\.summary) == ["FROM-CACHE"])

        let other = RunbookCache(folder: folder.path, binary: "build-2")
        #expect(RunbookLoader(cache: other).load(directory: dir.path).declarations.map(\.summary) == ["first"])

        try text.replacingOccurrences(of: "first", with: "FIRST").write(to: file, atomically: false, encoding: .utf8)
        #expect(RunbookLoader(cache: other).load(directory: dir.path).declarations.map(\.summary) == ["FIRST"])
    }

    /// A file with an error is reported on every load, never cached; a cache that cannot be
    /// written costs nothing but the speed.
    @Test func errorsAreNeverCachedAndAnUnwritableCacheIsHarmless() throws {
        let folder = try Self.temporaryFolder()
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder); try? FileManager.default.removeItem(at: dir) }
        try "section: S\ncommands: [ {name: \n".write(to: dir.appendingPathComponent("01.yaml"), atomically: false, encoding: .utf8)
        let cache = RunbookCache(folder: folder.path, binary: "b")
        for _ in 0..<2 {
            #expect(RunbookLoader(cache: cache).load(directory: dir.path).errors.count == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)

        let blocker = folder.appendingPathComponent("a-file")
        try "x".write(to: blocker, atomically: false, encoding: .utf8)
        let broken = RunbookCache(folder: blocker.appendingPathComponent("runbook").path, binary: "b")
        let outcome = RunbookLoader(cache: broken).load(directory: Self.commandsDirectory)
        #expect(outcome.errors.isEmpty && outcome.declarations.count >= 40)
    }

    @Test func theStandardPlaceFollowsTheEnvironment() {
        #expect(RunbookCache.standard(environment: ["TRIAGE_CACHE_DIR": ""]) == nil)
        #expect(RunbookCache.standard(environment: ["TRIAGE_CACHE_DIR": "/c", "HOME": "/h"])?.folder == "/c/runbook")
        #expect(RunbookCache.standard(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"])?.folder == "/x/triage/runbook")
        #expect(RunbookCache.standard(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"])?.folder == "/h/.cache/triage/runbook")
        #expect(RunbookCache.standard(environment: [:]) == nil)
        #expect(!RunbookCache.executableIdentity().isEmpty)
    }
}
