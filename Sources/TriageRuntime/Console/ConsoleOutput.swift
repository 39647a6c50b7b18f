import Foundation
import TriageCore

/// Standard output and error of `triage console`, written on a thread of its own: a write to a
/// pipe blocks while the reader is slow, and replies can be long (tables, timelines), so the
/// cooperative pool never waits on it. Writes keep their order.
public final class ConsoleOutput: Sendable {
    /// The process's console.
    public static let shared = ConsoleOutput()

    private let executor = ThreadExecutor(name: "triage-console-out")

    init() {}

    /// Writes `text` to standard output.
    public func out(_ text: String) async {
        await write(text, to: .standardOutput)
    }

    /// Writes `text` to standard error.
    public func err(_ text: String) async {
        await write(text, to: .standardError)
    }

    private func write(_ text: String, to handle: FileHandle) async {
        let data = Data(text.utf8)
        _ = try? await executor.run { handle.write(data) }
    }
}
