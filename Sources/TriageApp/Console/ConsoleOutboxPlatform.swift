import Foundation
import TriageCore
import TriageStore

/// The console as an outbox destination: messages queued for the `console` room (page
/// mentions, escalation notices) are printed to standard output (``ConsoleOutput``) as they are sent.
public struct ConsoleOutboxPlatform: ChatPlatform {
    public let name = "console"
    let renderer = TextRenderer()

    public init() {}

    public func start(registry: CommandRegistry) async throws {}

    /// The console is read by ``ConsoleSession``; nothing to poll.
    public func poll(cursor: String?) async throws -> PollBatch {
        try await Task.sleep(nanoseconds: 3_600_000_000_000)
        return PollBatch(items: [], cursor: cursor)
    }

    public func send(_ message: OutboxMessage, reply: Reply) async throws {
        await ConsoleOutput.shared.out(renderer.render(reply) + "\n\n")
    }
}
