import Foundation
import Logging
import Synchronization
import TriageChat
import TriageCore
import TriageHandlers
import TriageStore

extension Dispatcher {
    /// Handles a tap on one of the bot's buttons: authorized by the tapping person's role, the
    /// tap answered as soon as the decision is taken (before anything runs), the same
    /// confirmation as `/confirm TOKEN` (single use, two different people where asked), and
    /// the message with the button edited to show who decided, when, and the result.
    ///
    /// A refused, stale or repeated tap gets an answer and no message in the room; it still
    /// counts as handled, so a redelivery does nothing.
    func handleTap(_ message: InboundMessage, tap: ButtonTap, delivery: Delivery) async -> (Reply?, Bool) {
        var log = logger
        log[metadataKey: "chat.platform"] = "\(message.platform)"
        log[metadataKey: "chat.room"] = "\(message.room)"
        log[metadataKey: "chat.message"] = "\(message.messageID)"
        let answer = TapResponder(tap: tap, room: message.room, sink: delivery.sink, logger: log)
        if tap.data.hasPrefix(ChatButton.prefix) {
            return await handleCommandButton(message, tap: tap, delivery: delivery, answer: answer, logger: log)
        }
        guard let button = ActionButton(data: tap.data), let declaration = registry.declaration(named: button.command) else {
            log.notice("tap on a button Triage does not know", metadata: ["chat.button": "\(tap.data.prefix(64))"])
            return await decline(message, delivery, answer, TapAnswer("This button does not work any more.", alert: true))
        }
        if let refusal = roleRefusal(message, declaration, doing: "\(button.command) this", logger: log) {
            return await decline(message, delivery, answer, refusal)
        }
        log.info("tap", metadata: ["command.name": "\(button.command)", "chat.sender": "\(message.sender)"])
        let parsed = ParsedCommand(name: button.command, tokens: [CommandToken(button.token)], line: "/\(button.command) \(button.token)")
        let started = clock.now
        var outcome: CommandOutcome?
        do {
            let (resolved, arguments) = try registry.resolve(parsed)
            let context = CommandContext(message: message, declaration: resolved, arguments: arguments, parsed: parsed, now: started,
                                         registry: registry, logger: log, incidentEvents: incidentEvents,
                                         notify: interimSink(message, delivery))
            switch button.verb {
            case .confirm:
                outcome = try await confirmations.confirm(context, handlers: handlers, registry: registry) { claim, here in
                    await answer.send(ActionButton.answer(for: claim, runningHere: here))
                    // Decided: the message says so at once, and its buttons go.
                    switch claim {
                    case .run(let a):
                        await answer.edit(ActionButton.decision(a, at: started))
                    case .needsAnother(let next):
                        var spent = next
                        spent.status = .superseded
                        await answer.edit(ActionButton.decision(spent, at: started))
                    default:
                        break
                    }
                }
            case .cancel:
                outcome = try await confirmations.cancel(context)
                await answer.send(TapAnswer("Cancelled; nothing was run."))
            }
        } catch is CancellationError {
            outcome = CommandOutcome(reply: Reply(blocks: [.note("Triage was stopping and cut \(parsed.line) before it finished "
                                                                  + "(it may have partly run).", .warning)],
                                                  summary: "cut by shutdown: \(parsed.line)"))
        } catch let refusal as PresentableError {
            await answer.send(TapAnswer(refusal.description))
        } catch {
            let reply = Self.reply(for: error, logger: log)
            await answer.send(TapAnswer(reply.summary ?? "Internal error.", alert: true))
        }
        var result: (Reply?, Bool) = (nil, true)
        if let outcome {
            do {
                let line = parsed.line
                result = (try await Task { try await self.commit(outcome, message: message, line: line, delivery: delivery) }.value, true)
            } catch {
                log.error("could not record the handling of a tap", metadata: ["error": "\(String(reflecting: error))"])
                await answer.send(TapAnswer("Triage could not record this; nothing more was done.", alert: true))
                let why = StoreFault(error).map { " (\($0))" } ?? ""
                return (Reply.text("Triage could not record this tap in its store\(why); its result is not shown.", mark: .critical), false)
            }
        } else {
            await commitCursorOnly(message, delivery)
        }
        await answer.send(TapAnswer("Done."))
        // The message shows the decision as the store has it now (also after a tap on a button
        // whose edit was lost in a crash: editing to the same text is a success).
        let token = button.token
        if let action = try? await store.read({ tx in try tx.pendingAction(token: token) }), action.room == message.room {
            await answer.edit(ActionButton.decision(action, at: clock.now))
        }
        return result
    }
}

extension Dispatcher {
    /// A tap on a command button ([Ack], [Escalate now]): runs the stored command with its
    /// stored arguments as the person who tapped, if their role allows the declaration. The
    /// button is marked used in the same commit as the command's effect.
    func handleCommandButton(_ message: InboundMessage, tap: ButtonTap, delivery: Delivery, answer: TapResponder,
                             logger log: Logger) async -> (Reply?, Bool) {
        let data = tap.data
        let found = try? await store.read { tx in try tx.chatButton(data: data) }
        guard let button = found ?? nil, button.platform == message.platform, button.room == message.room,
              let declaration = registry.declaration(named: button.command), declaration.kind != .action,
              let handler = handlers[declaration.name] else {
            return await decline(message, delivery, answer, TapAnswer("This button does not work any more.", alert: true))
        }
        // The button may name people who may tap it whatever their role (the people paged, on [Ack]).
        if !button.allows(message.sender), let refusal = roleRefusal(message, declaration, doing: "use \(button.label)", logger: log) {
            return await decline(message, delivery, answer, refusal)
        }
        let started = clock.now
        if let by = button.usedBy {
            return await decline(message, delivery, answer,
                                 TapAnswer("Already done by \(by)" + (button.usedAt.map { " at \(UTCTime.format($0))" } ?? "") + "."))
        }
        if let expires = button.expiresAt, expires <= started {
            return await decline(message, delivery, answer, TapAnswer("Expired at \(UTCTime.format(expires)); nothing was done."))
        }
        if let holder = buttonsInFlight.claim(button.id, by: message.senderName) {
            return await decline(message, delivery, answer, TapAnswer("Already running: tapped by \(holder)."))
        }
        defer { buttonsInFlight.release(button.id) }
        await answer.send(TapAnswer("\(button.label): on it."))
        let arguments = button.boundArguments
        let words = arguments.values.sorted { $0.key < $1.key }.map { "\($0.value)" }
        let line = (["/" + declaration.name] + words).joined(separator: " ")
        let parsed = ParsedCommand(name: declaration.name, tokens: words.map { CommandToken($0) }, line: line)
        log.info("tap", metadata: ["command.name": "\(declaration.name)", "chat.sender": "\(message.sender)"])
        let context = CommandContext(message: message, declaration: declaration, arguments: arguments, parsed: parsed, now: started,
                                     registry: registry, logger: log, incidentEvents: incidentEvents, notify: interimSink(message, delivery))
        var outcome: CommandOutcome
        do {
            outcome = try await handler.handle(context)
            // Used once the command's effect commits; a refusal it throws there rolls this back
            // too, and a command that failed (Alertmanager unreachable) leaves the button usable.
            let inner = outcome.commit, id = button.id, person = message.senderName
            outcome.commit = { tx, reply in
                _ = try tx.useButton(id: id, by: person, at: started)
                return try inner?(tx, reply) ?? reply
            }
        } catch {
            outcome = CommandOutcome(reply: Self.reply(for: error, logger: log))
        }
        let person = message.senderName
        let reply: Reply
        do {
            let o = outcome
            reply = try await Task { try await self.commit(o, message: message, line: line, delivery: delivery) }.value
        } catch {
            log.error("could not record the handling of a tap", metadata: ["error": "\(String(reflecting: error))"])
            let why = StoreFault(error).map { " (\($0))" } ?? ""
            return (Reply.text("Triage could not record this tap in its store\(why); its result is not shown.", mark: .critical), false)
        }
        // The message shows who tapped, unless the command itself queued an edit of it (a page's
        // status message says who acknowledged): one edit, not two racing.
        let platform = message.platform, tapped = tap.messageID ?? ""
        let state = try? await store.read { tx in
            (try tx.chatButton(data: data)?.usedBy, try tx.editQueued(platform: platform, of: tapped, since: started))
        }
        if let (usedBy, queued) = state, usedBy != nil, !queued {
            await answer.edit(Reply(title: "\(button.label): \(person)",
                                    blocks: [.keyValues([KeyValue("at", UTCTime.format(started)),
                                                         KeyValue("result", reply.summary ?? reply.title ?? "done")])],
                                    mark: reply.worstMark, summary: reply.summary))
        }
        return (reply, true)
    }
}

extension Dispatcher {
    /// A tap that goes no further (refused, stale, already done): answered, and counted as
    /// handled so a redelivery does nothing.
    func decline(_ message: InboundMessage, _ delivery: Delivery, _ answer: TapResponder, _ why: TapAnswer) async -> (Reply?, Bool) {
        await answer.send(why)
        await commitCursorOnly(message, delivery)
        return (nil, true)
    }

    /// The refusal for a tap by someone whose role does not allow `declaration`; nil when it does.
    /// Authorization is by the tapping person's role, never by who can see the button.
    func roleRefusal(_ message: InboundMessage, _ declaration: CommandDeclaration, doing what: String, logger: Logger) -> TapAnswer? {
        guard message.role < declaration.role else { return nil }
        logger.notice("tap refused: role", metadata: ["chat.sender": "\(message.sender)", "chat.role": "\(message.role)"])
        return TapAnswer("Only someone with the \(declaration.role) role may \(what); you are a \(message.role). Nothing was done.", alert: true)
    }
}

/// Answers one tap exactly once, and edits the message it is on.
final class TapResponder: Sendable {
    let tap: ButtonTap
    let room: String
    let sink: (any ChatSink)?
    let logger: Logger
    private let answered = Mutex(false)

    init(tap: ButtonTap, room: String, sink: (any ChatSink)?, logger: Logger) {
        self.tap = tap
        self.room = room
        self.sink = sink
        self.logger = logger
    }

    /// Sends `answer` unless the tap was answered already. A late answer (after a restart)
    /// fails at the platform; that is logged, nothing else.
    func send(_ answer: TapAnswer) async {
        let first = answered.withLock { done in
            defer { done = true }
            return !done
        }
        guard first, let sink else { return }
        do {
            try await sink.answer(tap, with: answer)
        } catch {
            logger.info("could not answer a tap", metadata: ["error": "\(error)"])
        }
    }

    /// Replaces the message the button is on with `reply` (nil: nothing to show).
    func edit(_ reply: Reply?) async {
        guard let reply, let sink, let messageID = tap.messageID else { return }
        do {
            try await sink.edit(room: room, messageID: messageID, reply: reply)
        } catch {
            logger.warning("could not edit the message with the button", metadata: ["chat.target": "\(messageID)", "error": "\(error)"])
        }
    }
}

extension Dispatcher {
    /// Edits the bot's message that shows the action `token` (its preview, or the request for
    /// its next confirmation) to the decision as the store has it, without buttons: what a
    /// typed `/confirm` or `/cancel` does to it, as a tap would. Best effort, like a tap's
    /// edit (a lost edit leaves the buttons, whose next tap says what happened and edits again).
    func editPreview(token: String, in message: InboundMessage, sink: (any ChatSink)?, logger: Logger) async {
        guard let sink else { return }
        let platform = message.platform
        let found = try? await store.read { tx -> (PendingAction, String)? in
            guard let action = try tx.pendingAction(token: token), action.platform == platform, let key = action.previewKey,
                  let id = try tx.sentMessageIDs(platform: platform, key: key).first else { return nil }
            return (action, id)
        }
        guard let (action, messageID) = found ?? nil, action.room == message.room,
              let decision = ActionButton.decision(action, at: clock.now) else { return }
        do {
            try await sink.edit(room: action.room, messageID: messageID, reply: decision)
        } catch {
            logger.warning("could not edit the preview", metadata: ["chat.target": "\(messageID)", "error": "\(error)"])
        }
    }

    /// At most this many suggestion buttons under one reply.
    static let maxSuggestionButtons = 6

    /// One button per suggested diagnostic (`/pg locks`, `/pg idle --older 10m`), each a stored
    /// row that runs it with its bound arguments as whoever taps. Actions, placeholders
    /// (`/pg terminate PID`) and anything that does not parse stay text only.
    func suggestionButtons(_ lines: [String], message: InboundMessage, at: Date, in tx: StoreTransaction) throws -> [[ReplyButton]]? {
        var seen = Set<String>()
        var rows: [[ReplyButton]] = []
        for line in lines where rows.count < Self.maxSuggestionButtons {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard seen.insert(text).inserted,
                  let parsed = try? parser.parse(text),
                  let (declaration, arguments) = try? registry.resolve(parsed),
                  declaration.kind == .diagnostic, handlers[declaration.name] != nil else { continue }
            rows.append([try tx.storeButton(text, command: declaration.name, arguments: arguments,
                                            platform: message.platform, room: message.room, at: at,
                                            expiresAt: at.addingTimeInterval(24 * 3600))])
        }
        return rows.isEmpty ? nil : rows
    }
}
