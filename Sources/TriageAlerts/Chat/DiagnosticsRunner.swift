import Foundation
import TriageCore
import TriageHandlers

/// Runs an alert's runbook commands as the bot, through the runtime's ``CommandRunner``: as a
/// viewer, diagnostics only (an alert can never start an action), in a room of its own (so
/// nothing lands in a chat room's timeline).
public struct DiagnosticsRunner: Sendable {
    let run: @Sendable (String) async -> Reply?

    public init(commands: CommandRunner) {
        run = { line in await commands.diagnostic(line) }
    }

    /// For tests: any function from command line to reply.
    public init(_ run: @escaping @Sendable (String) async -> Reply?) {
        self.run = run
    }

    /// The command line for `command` against `database` (`/pg bloat --db main`).
    public static func line(_ command: String, database: String?) -> String {
        var line = "/" + command
        if let database, !command.contains("--db") { line += " --db \(database)" }
        return line
    }

    public func run(_ commands: [String], database: String?) async -> [DiagnosticResult] {
        var results: [DiagnosticResult] = []
        for c in commands {
            let line = Self.line(c, database: database)
            if let reply = await run(line) { results.append(DiagnosticResult(line: line, reply: reply)) }
        }
        return results
    }
}
