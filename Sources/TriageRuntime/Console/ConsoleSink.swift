import Foundation
import TriageChat
import TriageCore

/// The terminal as a reply sink: messages queued for the `console` room (page mentions,
/// escalation notices) are printed to standard output (``ConsoleOutput``) as they are sent.
/// The console needs no source to poll: ``ConsoleSession`` reads standard input.
public struct ConsoleSink: ChatSink {
    public let name = "console"
    let renderer = TextRenderer()

    public init() {}

    /// Prints the whole reply (the terminal has no size limit and no message ids).
    public func send(_ message: OutgoingMessage, part: Int) async throws -> [String] {
        await ConsoleOutput.shared.out(renderer.render(message.reply) + "\n\n")
        return []
    }
}
