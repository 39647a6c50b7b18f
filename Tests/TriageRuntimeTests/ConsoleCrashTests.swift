import Foundation
import Testing
import TriageTesting
import TriageCore
import TriageStore

/// Feeds a burst of notes to `triage console`, reads the replies as they arrive, kills the
/// process with SIGKILL at some point, and checks that every acknowledged note is in the store.
@Suite("SIGKILL during a burst of notes", .enabled(if: ProcessInfo.processInfo.environment["TRIAGE_BINARY"] != nil))
struct ConsoleCrashTests {
    /// What the reader thread saw before the kill.
    /// (Unchecked: every field is read and written under `condition`, which the test waits on;
    /// `Mutex` has no condition wait.)
    final class Acks: @unchecked Sendable {
        let condition = NSCondition()
        var eventIDs: [Int64] = []
        var opened = false
        var finished = false
    }

    /// What happened to the console process.
    struct Run: Sendable {
        var acknowledged: [Int64]
        var opened: Bool
        var killed: Bool
    }

    @Test("no acknowledged note is lost", arguments: [1, 150, 900])
    func killDuringBurst(killAfter: Int) async throws {
        signal(SIGPIPE, SIG_IGN)
        let env = ProcessInfo.processInfo.environment
        let base = URL(fileURLWithPath: env["TRIAGE_TEST_WORK"] ?? NSTemporaryDirectory())
            .appendingPathComponent("crash-\(killAfter)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let storePath = base.appendingPathComponent("timeline.sqlite").path
        // Waiting on the process and the pipes blocks: it happens on a thread of its own.
        let run = try await ThreadExecutor.detached(name: "crash-test") {
            try Self.burst(storePath: storePath, directory: base, killAfter: killAfter)
        }
        #expect(run.killed, "the console was killed, not finished")
        #expect(run.opened)
        let acknowledged = run.acknowledged
        #expect(acknowledged.count >= killAfter)
        let store = try BotStore(path: storePath)
        let notes = try await store.read { tx in try tx.events(incident: 1, kind: .note) }
        let byID = Dictionary(uniqueKeysWithValues: notes.map { ($0.id!, $0.text) })
        for (n, id) in acknowledged.enumerated() {
            #expect(byID[id] == "burst-\(n + 1)", "acknowledged note \(n + 1) (event \(id)) is missing or wrong")
        }
        #expect(notes.count >= acknowledged.count)
        #expect(notes.count < Self.total, "killed mid-burst (else the test proves nothing); raise the burst size")
        #expect(notes.map(\.text) == (0..<notes.count).map { "burst-\($0 + 1)" }, "notes are stored in order, with no gap")
    }

    static let total = 20_000

    /// Starts the console, writes the burst, reads acknowledgements until `killAfter`, kills it.
    static func burst(storePath: String, directory base: URL, killAfter: Int) throws -> Run {
        let env = ProcessInfo.processInfo.environment
        let process = Process()
        process.executableURL = URL(fileURLWithPath: env["TRIAGE_BINARY"]!)
        process.arguments = ["console", "--timeline", storePath]
        var childEnv = env
        childEnv["DATABASE_URL"] = env["TRIAGE_TEST_PG_URL"] ?? "postgresql://triage@127.0.0.1:1/none"
        childEnv["TRIAGE_COMMANDS"] = IncidentHarness.repo.appendingPathComponent("commands").path
        process.environment = childEnv
        process.currentDirectoryURL = base
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()

        let acks = Acks()
        // Replies are read as they arrive; each "Noted in incident #1 (event N)." is an acknowledgement.
        let reader = Thread {
            var pending = ""
            let handle = output.fileHandleForReading
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending += String(decoding: data, as: UTF8.self)
                var lines = pending.components(separatedBy: "\n")
                pending = lines.removeLast()
                acks.condition.lock()
                for line in lines {
                    if line.hasPrefix("Incident #1 opened") || line.contains("Incident #1 opened") { acks.opened = true }
                    if line.hasPrefix("Noted in incident #1 (event "),
                       let id = Int64(line.dropFirst("Noted in incident #1 (event ".count).prefix { $0.isNumber }) {
                        acks.eventIDs.append(id)
                    }
                }
                acks.condition.broadcast()
                acks.condition.unlock()
            }
            acks.condition.lock()
            acks.finished = true
            acks.condition.broadcast()
            acks.condition.unlock()
        }
        reader.start()
        // The writer never waits for replies: the burst goes in as fast as the pipe takes it.
        let writer = Thread {
            let handle = input.fileHandleForWriting
            var burst = "/incident open sev2 burst test\n"
            for n in 1...total { burst += "/note burst-\(n)\n" }
            try? handle.write(contentsOf: Data(burst.utf8))
            try? handle.close()
        }
        writer.start()

        acks.condition.lock()
        while acks.eventIDs.count < killAfter && !acks.finished {
            _ = acks.condition.wait(until: Date().addingTimeInterval(60))
        }
        acks.condition.unlock()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        acks.condition.lock()
        while !acks.finished { _ = acks.condition.wait(until: Date().addingTimeInterval(30)) }
        defer { acks.condition.unlock() }
        return Run(acknowledged: acks.eventIDs, opened: acks.opened, killed: process.terminationReason == .uncaughtSignal)
    }
}
