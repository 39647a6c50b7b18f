import Foundation
import TriageCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion and collects its output (scripts, the built `triage` binary).
///
/// Uses posix_spawn and waitpid directly: output goes to files (a daemon started by the
/// program, such as postgres from pg_ctl, would keep a pipe open forever), and waiting does
/// not depend on a run loop. The waiting happens on a thread of its own, never on the
/// cooperative pool (``runBlocking(_:_:input:environment:directory:)`` is for `defer` blocks).
package struct ProcessRunner {
    package struct Output: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    package static func run(_ executable: String, _ arguments: [String], input: String? = nil,
                    environment: [String: String]? = nil, directory: URL? = nil) async throws -> Output {
        try await ThreadExecutor.detached(name: "process-runner") {
            try runBlocking(executable, arguments, input: input, environment: environment, directory: directory)
        }
    }

    package static func runBlocking(_ executable: String, _ arguments: [String], input: String? = nil,
                            environment: [String: String]? = nil, directory: URL? = nil) throws -> Output {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("triage-run-\(UUID().uuidString)")
        let inFile = base.appendingPathExtension("in"), outFile = base.appendingPathExtension("out"), errFile = base.appendingPathExtension("err")
        try Data((input ?? "").utf8).write(to: inFile)
        defer { for f in [inFile, outFile, errFile] { try? FileManager.default.removeItem(at: f) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inFile.path, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let env = (environment.map { ProcessInfo.processInfo.environment.merging($0) { $1 } } ?? ProcessInfo.processInfo.environment)
            .map { "\($0.key)=\($0.value)" }
        var executable = executable
        var argv = [executable] + arguments
        if let directory {
            argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory.path] + argv
            executable = "/bin/sh"
        }
        var pid: pid_t = 0
        let rc = withCStringArray(argv) { a in
            withCStringArray(env) { e in posix_spawn(&pid, executable, &actions, nil, a, e) }
        }
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(status: exitCode,
                      stdout: (try? String(contentsOf: outFile, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
    }

    private static func withCStringArray<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }

    /// `scripts/pg.sh ARGS` from the repository.
    package static func pg(_ arguments: [String]) async throws -> Output {
        try await run("/bin/bash", [TestEnvironment.repositoryRoot.appendingPathComponent("scripts/pg.sh").path] + arguments)
    }
}
