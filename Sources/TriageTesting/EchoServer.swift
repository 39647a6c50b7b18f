import Foundation
import TriageCore

/// A Python test server under `Tests/` (the HTTP echo server, the Telegram stand-in), started
/// per test and stopped when the test ends.
package final class EchoServer {
    package let process = Process()
    /// Closing it (or this process dying) makes the server exit.
    package let stdin = Pipe()
    package let port: Int
    package var base: String { "http://127.0.0.1:\(port)" }

    package convenience init() throws {
        try self.init(script: "Support/http_echo_server.py", arguments: [])
    }

    /// Starts a Python test server under `Tests/` that prints `PORT n` and exits when its stdin closes.
    package init(script relative: String, arguments: [String]) throws {
        let python = ProcessInfo.processInfo.environment["TRIAGE_TEST_PYTHON"] ?? "/usr/bin/python3"
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("Tests").appendingPathComponent(relative).path
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let p = Int(text.dropFirst(5)) else {
            throw HTTPError(.network, message: "echo server did not start: \(text)", host: "127.0.0.1")
        }
        port = p
    }

    package func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    deinit { stop() }
}
