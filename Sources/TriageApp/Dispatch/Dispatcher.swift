import Foundation
import Logging
import TriageCore
import TriageStore

/// Parse → resolve → authorize → handle → commit → reply, for every platform.
///
/// The reply is returned only after the handling transaction has committed: the timeline
/// event, the platform cursor, the processed-message mark and the outbox entry together.
public final class Dispatcher: Sendable {
    public let registry: CommandRegistry
    let handlers: [String: any CommandHandler]
    let store: TimelineStore
    let parser: CommandLineParser
    let logger: Logger
    let now: @Sendable () -> Date
    /// The bot's own username, for `/cmd@BotName` (nil accepts any mention).
    let botName: String?

    public init(handlers: [any CommandHandler], store: TimelineStore, logger: Logger,
                parser: CommandLineParser = CommandLineParser(), botName: String? = nil,
                now: @escaping @Sendable () -> Date = { Date() }) {
        var registry = CommandRegistry()
        var byName: [String: any CommandHandler] = [:]
        for h in handlers {
            for d in h.declarations {
                registry.register(d)
                byName[d.name] = h
            }
        }
        self.registry = registry
        self.handlers = byName
        self.store = store
        self.logger = logger
        self.parser = parser
        self.botName = botName
        self.now = now
    }

    /// Where a handled message's progress is recorded.
    public struct Delivery: Sendable {
        /// The platform cursor to store with the handling, if any.
        public var cursor: String?
        /// Queue the reply in the outbox (chat platforms) instead of only returning it (console).
        public var enqueue: Bool

        public init(cursor: String? = nil, enqueue: Bool = false) {
            self.cursor = cursor
            self.enqueue = enqueue
        }
    }

    /// Handles one message. Returns nil when the message gets no reply (not a command, a
    /// command for another bot, or a duplicate delivery).
    public func handle(_ message: InboundMessage, delivery: Delivery = Delivery()) async -> Reply? {
        let started = now()
        guard parser.isCommand(message.text) else {
            await commitCursorOnly(message, delivery)
            return nil
        }
        var log = logger
        log[metadataKey: "chat.platform"] = "\(message.platform)"
        log[metadataKey: "chat.room"] = "\(message.room)"
        log[metadataKey: "chat.message"] = "\(message.messageID)"

        let outcome: CommandOutcome
        var parsedLine = message.text
        var runbookKind: CommandKind?
        do {
            let parsed = try parser.parse(message.text)
            parsedLine = parsed.line
            if let mention = parsed.botName, let botName, mention.lowercased() != botName.lowercased() {
                await commitCursorOnly(message, delivery)
                return nil
            }
            if try await alreadyHandled(message) {
                log.info("duplicate delivery ignored")
                await commitCursorOnly(message, delivery)
                return nil
            }
            let (declaration, arguments) = try registry.resolve(parsed)
            if declaration.kind != .builtin, message.role >= declaration.role { runbookKind = declaration.kind }
            guard message.role >= declaration.role else {
                throw TriageError(.forbidden, "/\(declaration.name) needs the \(declaration.role) role; \(message.senderName) is a \(message.role).")
            }
            guard let handler = handlers[declaration.name] else {
                throw TriageError(.notFound, "/\(declaration.name) has no handler.")
            }
            let context = CommandContext(message: message, declaration: declaration, arguments: arguments,
                                         parsed: parsed, now: started)
            log.info("command", metadata: ["command.name": "\(declaration.name)", "chat.sender": "\(message.sender)"])
            outcome = try await handler.handle(context)
        } catch {
            // A runbook command that failed (timeout, database down) is part of the incident's story too.
            outcome = CommandOutcome(reply: Self.reply(for: error, logger: log), recordsCommand: runbookKind != nil && !(error is UsageError))
        }
        do {
            return try await commit(outcome, message: message, line: parsedLine, delivery: delivery)
        } catch {
            log.error("could not record the handling", metadata: ["error": "\(String(reflecting: error))"])
            return Reply.text("Triage could not record this in its timeline store; nothing was recorded. Please retry.", mark: .critical)
        }
    }

    func alreadyHandled(_ message: InboundMessage) async throws -> Bool {
        guard message.platform != "console" else { return false }
        let platform = message.platform, id = message.messageID
        return try await store.read { tx in try tx.wasProcessed(platform: platform, messageID: id) }
    }

    func commit(_ outcome: CommandOutcome, message: InboundMessage, line: String, delivery: Delivery) async throws -> Reply {
        let at = now()
        let logger = self.logger
        return try await store.write { tx in
            var reply = outcome.reply.redacted()
            if let commit = outcome.commit {
                // The handler's writes are all or nothing; a refusal it throws (no open
                // incident, token expired, …) becomes the reply, and the message still counts
                // as handled so a redelivery does not repeat it.
                do {
                    reply = try tx.attempt { try commit(tx, reply) }.redacted()
                } catch let error as PresentableError {
                    reply = Self.reply(for: error, logger: logger)
                }
            }
            if outcome.recordsCommand, let incident = try tx.activeIncident(platform: message.platform, room: message.room) {
                try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: message.senderName, kind: .command,
                                            command: line, text: reply.summary ?? reply.title ?? line,
                                            output: TextRenderer(maxCellWidth: 4000).render(reply)))
            }
            if message.platform != "console" {
                _ = try tx.markProcessed(platform: message.platform, messageID: message.messageID, at: at)
            }
            if let cursor = delivery.cursor {
                try tx.setCursor(cursor, platform: message.platform, at: at)
            }
            if delivery.enqueue {
                try tx.enqueue(OutboxMessage(platform: message.platform, room: message.room, replyTo: message.messageID,
                                             key: "\(message.platform):\(message.room):\(message.messageID)",
                                             reply: reply, createdAt: at))
            }
            return reply
        }
    }

    func commitCursorOnly(_ message: InboundMessage, _ delivery: Delivery) async {
        guard let cursor = delivery.cursor else { return }
        let platform = message.platform
        do {
            try await store.write { tx in try tx.setCursor(cursor, platform: platform) }
        } catch {
            logger.error("could not store cursor", metadata: ["error": "\(error)"])
        }
    }

    /// The reply for a failure: presentable errors as they are, anything else as a reference.
    static func reply(for error: Error, logger: Logger) -> Reply {
        switch error {
        case let usage as UsageError:
            return Reply(blocks: [.note(usage.description, .warning)], summary: usage.message)
        case let presentable as PresentableError:
            logger.info("command failed", metadata: ["error": "\(presentable.debugDescription)"])
            return Reply(blocks: [.note(presentable.description, .critical)], summary: presentable.description)
        default:
            let ref = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            logger.error("internal error", metadata: ["error.ref": "\(ref)", "error": "\(String(reflecting: error))"])
            return Reply(blocks: [.note("Internal error (ref \(ref)). The details are in Triage's log.", .critical)],
                         summary: "internal error \(ref)")
        }
    }
}
