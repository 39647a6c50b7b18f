import Foundation
import TriageChat
import TriageCore

/// `triage console`: one chat line at a time from a stream, each reply printed as text.
public struct ConsoleSession {
    let app: TriageApplication
    let renderer = TextRenderer()

    public init(app: TriageApplication) {
        self.app = app
    }

    /// Handles one line as if typed in the console room; returns the rendered reply.
    public func handle(line: String, number: Int) async -> String? {
        var text = line.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, !text.hasPrefix("#") else { return nil }
        if !text.hasPrefix("/") { text = "/" + text }
        let message = InboundMessage(platform: "console", room: "console", sender: app.config.consoleUser,
                                     text: text, messageID: "\(number)", role: app.config.consoleRole)
        guard let reply = await app.dispatcher.handle(message) else { return nil }
        return renderer.render(reply)
    }

    /// Reads standard input until its end. Reading happens on a thread of its own so the
    /// cooperative pool is never blocked on stdin.
    public func run(interactive: Bool) async {
        let lines = LineReader.standardInput()
        var number = 0
        if interactive { await prompt() }
        for await line in lines {
            number += 1
            if let out = await handle(line: line, number: number) {
                await ConsoleOutput.shared.out(out + "\n\n")
            }
            if interactive { await prompt() }
        }
    }

    func prompt() async {
        await ConsoleOutput.shared.err("triage> ")
    }
}

/// Lines of standard input as an async stream, read on a dedicated thread.
enum LineReader {
    static func standardInput() -> AsyncStream<String> {
        AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let thread = Thread {
                while let line = readLine(strippingNewline: true) {
                    continuation.yield(line)
                }
                continuation.finish()
            }
            thread.name = "triage-stdin"
            thread.start()
        }
    }
}
