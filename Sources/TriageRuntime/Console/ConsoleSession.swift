import Foundation
import TriageChat
import TriageCore

/// `triage console`: one chat line at a time from a stream, each reply printed as text.
public struct ConsoleSession: Sendable {
    let app: TriageApplication
    let renderer = TextRenderer()

    public init(app: TriageApplication) {
        self.app = app
    }

    /// Handles one line as if typed in the console room; returns the rendered reply.
    /// Interim messages ("running …") are printed as they come.
    public func handle(line: String, number: Int) async -> String? {
        var text = line.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, !text.hasPrefix("#") else { return nil }
        if !text.hasPrefix("/") { text = "/" + text }
        let message = InboundMessage(platform: "console", room: "console", sender: app.config.consoleUser,
                                     text: text, messageID: "\(number)", role: app.config.consoleRole)
        let renderer = self.renderer
        let delivery = Dispatcher.Delivery(interim: { reply in await ConsoleOutput.shared.out(renderer.render(reply) + "\n\n") })
        guard let reply = await app.dispatcher.handle(message, delivery: delivery) else { return nil }
        return renderer.render(reply)
    }

    /// Reads standard input until its end. Reading happens on a thread of its own so the
    /// cooperative pool is never blocked on stdin.
    /// At a terminal each line runs in a task of its own, in order, but a line that runs long
    /// (a `/confirm` waiting on a lock) never holds up the next one for more than a moment. A
    /// script piped in runs strictly one line after the other, like `psql -f`: its output
    /// stays in the order of its lines.
    public func run(interactive: Bool) async {
        let lines = LineReader.standardInput()
        let lanes = RoomLanes(headStart: interactive ? 0.5 : .infinity)
        var number = 0
        if interactive { await prompt() }
        await withDiscardingTaskGroup { group in
            for await line in lines {
                number += 1
                let n = number
                let started = Gate()
                group.addTask {
                    await lanes.run(room: "console") {
                        started.open()
                        if let out = await self.handle(line: line, number: n) {
                            await ConsoleOutput.shared.out(out + "\n\n")
                        }
                    }
                }
                // The next line is read once this one started (keeps the order of a piped script).
                await started.wait()
                if interactive { await prompt() }
            }
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
