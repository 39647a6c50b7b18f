import Foundation
import Logging
import Synchronization
import TriageChat
import TriageCore
import TriageHandlers
import TriageStore

/// Parse → resolve → authorize → confirm (actions) → handle → commit → reply, for every platform.
///
/// The reply is returned only after the handling transaction has committed: the timeline
/// event, the platform cursor, the processed-message mark and the outbox entry together.
public final class Dispatcher: Sendable {
    public let registry: CommandRegistry
    /// Declarations that could not be registered (a name already taken): reported at start-up
    /// and by `check-config`, never silently dropped.
    public let registryProblems: [ConfigError]
    let handlers: [String: any CommandHandler]
    let confirmations: ConfirmationStage
    let store: BotStore
    public let parser: CommandLineParser
    let logger: Logger
    /// Time for the commands' contexts (confirmation expiry among them).
    let clock: any TriageClock
    let incidentEvents: IncidentEvents
    /// The bot's own username, for `/cmd@BotName` (nil accepts any mention).
    let botName: String?
    /// Command buttons whose tap is being handled now (one tap at a time per button).
    let buttonsInFlight = ButtonClaims()

    /// - Parameters:
    ///   - handlers: every handler; the first to declare a name keeps it.
    ///   - observers: told when incidents open, resolve, reopen or change severity.
    ///   - confirmation: token lifetime and who may confirm twice.
    public init(handlers: [any CommandHandler], store: BotStore, logger: Logger,
                parser: CommandLineParser = CommandLineParser(), botName: String? = nil,
                observers: [any IncidentObserver] = [], confirmation: ConfirmationSettings = ConfirmationSettings(),
                clock: any TriageClock = SystemClock()) {
        let stage = ConfirmationStage(settings: confirmation, store: store, logger: logger)
        var registry = CommandRegistry()
        var byName: [String: any CommandHandler] = [:]
        var problems: [ConfigError] = []
        // Declarations written in Swift first, then those loaded from files: a file can never
        // take a built-in's name.
        let all = ([stage as any CommandHandler] + handlers).flatMap { h in h.declarations.map { (h, $0) } }
        for (h, d) in all.filter({ $0.1.origin == nil }) + all.filter({ $0.1.origin != nil }) {
            if let taken = registry.add(d) {
                problems.append(Self.collision(d, with: taken))
                continue
            }
            byName[d.name] = h
        }
        self.registry = registry
        self.registryProblems = problems
        self.handlers = byName
        self.confirmations = stage
        self.store = store
        self.logger = logger
        self.parser = parser
        self.botName = botName
        self.clock = clock
        self.incidentEvents = IncidentEvents(observers: observers)
        for p in problems {
            logger.error("command not registered", metadata: ["config.error": "\(p.description)"])
        }
    }

    static func collision(_ d: CommandDeclaration, with taken: CommandDeclaration) -> ConfigError {
        let (file, line) = Self.split(origin: d.origin)
        let other = taken.origin.map { " (declared at \($0))" } ?? " (built into Triage)"
        return ConfigError(file: file, line: line,
                           message: "command '\(d.name)' is already declared\(other); rename it, it was not loaded")
    }

    static func split(origin: String?) -> (String, Int?) {
        guard let origin else { return ("built-in", nil) }
        if let colon = origin.lastIndex(of: ":"), let line = Int(origin[origin.index(after: colon)...]) {
            return (String(origin[..<colon]), line)
        }
        return (origin, nil)
    }

    /// Where a handled message's progress is recorded.
    public struct Delivery: Sendable {
        /// The platform cursor to store with the handling, if any.
        public var cursor: String?
        /// Queue the reply in the outbox (chat platforms) instead of only returning it (console).
        public var enqueue: Bool
        /// The message was journaled when it arrived (the poller did that, and checked it was
        /// not handled before): the commit finishes its journal entry.
        public var journaled: Bool
        /// Where interim messages go ("running …", "waiting for …"); nil: to the outbox when
        /// `enqueue`, else nowhere.
        public var interim: (@Sendable (Reply) async -> Void)?
        /// Where taps are answered and the messages with buttons edited (the platform's sink).
        public var sink: (any ChatSink)?
        /// An instant command, not journaled: its commit takes the processed mark first (a
        /// redelivery finds it taken and is dropped, its work undone) and settles its place
        /// under the cursor watermark (storing the cursor when that moves it).
        var watermark: CursorWatermark.Slot?

        public init(cursor: String? = nil, enqueue: Bool = false, journaled: Bool = false,
                    interim: (@Sendable (Reply) async -> Void)? = nil, sink: (any ChatSink)? = nil) {
            self.cursor = cursor
            self.enqueue = enqueue
            self.journaled = journaled
            self.interim = interim
            self.sink = sink
        }
    }

    /// Seconds after which a command still running gets a "running …" notice.
    public static let runningNoticeAfter: Double = 2

    /// Handles one message. Returns nil when the message gets no reply (not a command, a
    /// command for another bot, or a duplicate delivery).
    public func handle(_ message: InboundMessage, delivery: Delivery = Delivery()) async -> Reply? {
        await handleRecorded(message, delivery: delivery).reply
    }

    /// What became of one message.
    public struct Handled: Sendable {
        public var reply: Reply?
        /// False when the store could not record the handling: the reply was not queued and
        /// the caller must deliver it some other way.
        public var recorded: Bool
    }

    /// Handles one message and says whether its handling was recorded.
    public func handleRecorded(_ message: InboundMessage, delivery: Delivery = Delivery()) async -> Handled {
        Handled(reply: nil, recorded: true).with(await handleInner(message, delivery: delivery))
    }

    func handleInner(_ message: InboundMessage, delivery: Delivery) async -> (Reply?, Bool) {
        if let tap = message.tap {
            return await handleTap(message, tap: tap, delivery: delivery)
        }
        let started = clock.now
        guard parser.isCommand(message.text) else {
            await commitCursorOnly(message, delivery)
            return (nil, true)
        }
        var log = logger
        log[metadataKey: "chat.platform"] = "\(message.platform)"
        log[metadataKey: "chat.room"] = "\(message.room)"
        log[metadataKey: "chat.message"] = "\(message.messageID)"

        let outcome: CommandOutcome
        var parsedLine = message.text
        var runbookKind: CommandKind?
        var notice: RunningNotice?
        /// The token of a previewed action a typed /confirm or /cancel decided.
        var decided: String?
        do {
            let parsed = try parser.parse(message.text)
            parsedLine = parsed.line
            if let mention = parsed.botName, let botName, mention.lowercased() != botName.lowercased() {
                await commitCursorOnly(message, delivery)
                return (nil, true)
            }
            if !delivery.journaled, delivery.watermark == nil, try await alreadyHandled(message) {
                log.info("duplicate delivery ignored")
                await commitCursorOnly(message, delivery)
                return (nil, true)
            }
            let (declaration, arguments) = try registry.resolve(parsed)
            if declaration.kind != .builtin, message.role >= declaration.role { runbookKind = declaration.kind }
            guard message.role >= declaration.role else {
                throw TriageError(.forbidden, "/\(declaration.name) needs the \(declaration.role) role; \(message.senderName) is a \(message.role).")
            }
            guard let handler = handlers[declaration.name] else {
                throw TriageError(.notFound, "/\(declaration.name) has no handler.")
            }
            let notify = interimSink(message, delivery)
            let context = CommandContext(message: message, declaration: declaration, arguments: arguments,
                                         parsed: parsed, now: started, registry: registry, logger: log,
                                         incidentEvents: incidentEvents, notify: notify)
            log.info("command", metadata: ["command.name": "\(declaration.name)", "chat.sender": "\(message.sender)"])
            // An instant command cannot run long: no timer to arm and disarm for it.
            if !declaration.instant {
                notice = RunningNotice(after: Self.runningNoticeAfter, line: parsed.line, by: message.senderName,
                                       post: runningNoticePoster(message, delivery))
            }
            if declaration.kind == .action {
                // Every action, whoever implements it, goes through a preview and confirmation.
                guard let action = handler as? any ActionHandler else {
                    throw TriageError(.forbidden, "/\(declaration.name) changes something but has no preview; it was not run.")
                }
                outcome = try await confirmations.preview(context, handler: action)
            } else if declaration.name == "confirm" {
                let token = arguments.string("token")?.lowercased(), previewLog = log
                decided = token
                // Typed, like a tap: the preview shows the decision at once, its buttons gone.
                outcome = try await confirmations.confirm(context, handlers: handlers, registry: registry) { claim, _ in
                    switch claim {
                    case .run, .needsAnother:
                        if let token { await self.editPreview(token: token, in: message, sink: delivery.sink, logger: previewLog) }
                    default:
                        break
                    }
                }
            } else if declaration.name == "cancel" {
                let cancelled = try await confirmations.cancelling(context)
                decided = cancelled.token
                outcome = cancelled.outcome
            } else {
                outcome = try await handler.handle(context)
            }
        } catch is CancellationError {
            // Triage is stopping and the grace period ran out: say so, and record it.
            outcome = CommandOutcome(reply: Reply(blocks: [.note("Triage was stopping and cut \(parsedLine.prefix(200)) before it finished "
                                                                  + "(it may have partly run). Run it again once Triage is back.", .warning)],
                                                  summary: "cut by shutdown: \(parsedLine.prefix(200))"),
                                     recordsCommand: true)
        } catch {
            // A runbook command that failed (timeout, database down) is part of the incident's story too.
            outcome = CommandOutcome(reply: Self.reply(for: error, logger: log), recordsCommand: runbookKind != nil && !(error is UsageError))
        }
        // A "running …" notice posted while it ran is edited into the result (see ``RunningNotice``).
        let replaces = await notice?.finish() == true ? Self.runningNoticeKey(message) : nil
        do {
            // The commit runs even when the task was cancelled (shutdown): what ran is recorded.
            let line = parsedLine
            let reply = try await Task { try await self.commit(outcome, message: message, line: line, delivery: delivery,
                                                               replaces: replaces) }.value
            if let decided { await editPreview(token: decided, in: message, sink: delivery.sink, logger: log) }
            return (reply, true)
        } catch is DuplicateDelivery {
            log.info("duplicate delivery ignored")
            return (nil, true)
        } catch {
            log.error("could not record the handling", metadata: ["error": "\(String(reflecting: error))"])
            let why = StoreFault(error).map { " (\($0))" } ?? ""
            return (Reply.text("Triage could not record this in its store\(why); nothing was recorded, so its result is not shown. "
                               + "Retry once Triage can record again.", mark: .critical), false)
        }
    }

    /// Whether `message` may skip the arrival journal: a message that is no command, a command
    /// that fails to parse or resolve (its reply is a usage message), or one declared
    /// ``CommandDeclaration/instant``. Never a tap.
    public func isInstant(_ message: InboundMessage) -> Bool {
        guard message.tap == nil else { return false }
        guard parser.isCommand(message.text) else { return true }
        guard let parsed = try? parser.parse(message.text), let (declaration, _) = try? registry.resolve(parsed) else { return true }
        return declaration.instant
    }

    func alreadyHandled(_ message: InboundMessage) async throws -> Bool {
        guard message.platform != "console" else { return false }
        let platform = message.platform, id = message.messageID
        return try await store.read { tx in try tx.wasProcessed(platform: platform, messageID: id) }
    }

    /// - Parameter replaces: the outbox key of an earlier message of the bot that the reply
    ///   takes the place of (edited into it where the platform can).
    func commit(_ outcome: CommandOutcome, message: InboundMessage, line: String, delivery: Delivery,
                replaces: String? = nil) async throws -> Reply {
        let at = clock.now
        let logger = self.logger
        // The poll may move past this command once its record is durable, not before.
        defer { delivery.watermark?.publish() }
        return try await store.write { tx in
            let dedupeHere = delivery.watermark != nil && message.platform != "console"
            if dedupeHere, !(try tx.markProcessed(platform: message.platform, messageID: message.messageID, at: at)) {
                throw DuplicateDelivery()
            }
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
            if !outcome.suggestedCommands.isEmpty, message.platform != "console", reply.buttons == nil {
                reply.buttons = try self.suggestionButtons(outcome.suggestedCommands, message: message, at: at, in: tx)
            }
            if outcome.recordsCommand, let incident = try tx.activeIncident(platform: message.platform, room: message.room),
               let incidentID = incident.id {
                try tx.append(TimelineEvent(incidentID: incidentID, at: at, actor: message.senderName, kind: .command,
                                            command: line, text: reply.summary ?? reply.title ?? line,
                                            output: TextRenderer(maxCellWidth: 4000).render(reply)))
            }
            if message.platform != "console" && !dedupeHere {
                _ = try tx.markProcessed(platform: message.platform, messageID: message.messageID, at: at)
            }
            if delivery.journaled || delivery.watermark?.wasJournaledLate == true {
                try tx.finishJournaled(platform: message.platform, messageID: message.messageID)
            }
            if let cursor = delivery.watermark?.settle() ?? delivery.cursor {
                try tx.setCursor(cursor, platform: message.platform, at: at)
            }
            if delivery.enqueue {
                try tx.enqueue(OutboxMessage(platform: message.platform, room: message.room, replyTo: message.replyTarget,
                                             key: "\(message.platform):\(message.room):\(message.messageID)",
                                             reply: reply, createdAt: at, replaces: replaces))
            }
            return reply
        }
    }

    func commitCursorOnly(_ message: InboundMessage, _ delivery: Delivery) async {
        // An instant command journaled late (see ``CursorWatermark/Slot/wasJournaledLate``).
        let late = delivery.watermark
        guard delivery.cursor != nil || delivery.journaled || late?.wasJournaledLate == true else { return }
        let platform = message.platform, id = message.messageID, cursor = delivery.cursor, journaled = delivery.journaled
        do {
            try await store.write { tx in
                if let cursor { try tx.setCursor(cursor, platform: platform) }
                if journaled || late?.wasJournaledLate == true {
                    _ = try tx.markProcessed(platform: platform, messageID: id)
                    try tx.finishJournaled(platform: platform, messageID: id)
                }
            }
        } catch {
            logger.error("could not store cursor", metadata: ["error": "\(error)"])
        }
    }

    /// Where interim messages of one command go: the given sink, or the outbox (each with a key
    /// of its own, so a redelivery never doubles it).
    func interimSink(_ message: InboundMessage, _ delivery: Delivery) -> @Sendable (Reply) async -> Void {
        if let interim = delivery.interim { return interim }
        guard delivery.enqueue else { return { _ in } }
        let store = self.store, logger = self.logger
        let counter = InterimCounter()
        return { reply in
            let n = counter.next()
            let key = "\(message.platform):\(message.room):\(message.messageID):interim\(n)"
            do {
                try await store.write { tx in
                    _ = try tx.enqueue(OutboxMessage(platform: message.platform, room: message.room, replyTo: message.replyTarget,
                                                     key: key, reply: reply, createdAt: Date()))
                }
            } catch {
                logger.warning("could not queue an interim message", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The outbox key of the "running …" notice of `message`.
    static func runningNoticeKey(_ message: InboundMessage) -> String {
        "\(message.platform):\(message.room):\(message.messageID):running"
    }

    /// Where the "running …" notice of one command goes: the outbox under a key of its own
    /// (true: a message the result can replace), or the interim sink (the console prints it).
    func runningNoticePoster(_ message: InboundMessage, _ delivery: Delivery) -> @Sendable (Reply) async -> Bool {
        if let interim = delivery.interim { return { reply in await interim(reply); return false } }
        guard delivery.enqueue else { return { _ in false } }
        let store = self.store, logger = self.logger, key = Self.runningNoticeKey(message)
        return { reply in
            do {
                try await store.write { tx in
                    _ = try tx.enqueue(OutboxMessage(platform: message.platform, room: message.room, replyTo: message.replyTarget,
                                                     key: key, reply: reply, createdAt: Date()))
                }
                return true
            } catch {
                logger.warning("could not queue the running notice", metadata: ["error": "\(error)"])
                return false
            }
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

/// Numbers the interim messages of one command.
final class InterimCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// Posts "running … (started by X)" when a command is still running after a while; nothing
/// when it finished in time. One timer source, cancelled (and gone) when the command ends.
/// ``finish()`` waits for a notice being queued, so the result is always queued after it and
/// can take its place.
final class RunningNotice: Sendable {
    private let timer: OneShotTimer
    private struct State {
        var finished = false
        var posting: Task<Bool, Never>?
    }
    /// Shared with the timer's body.
    private final class Box: Sendable {
        let state = Mutex(State())
    }
    private let box: Box

    /// - Parameter post: queues the notice; true when it became a message the result may replace.
    init(after seconds: Double, line: String, by person: String, post: @escaping @Sendable (Reply) async -> Bool) {
        let started = Date()
        let box = Box()
        self.box = box
        timer = OneShotTimer(after: seconds) {
            let waited = DurationFormatter.format(seconds: Date().timeIntervalSince(started))
            let reply = Reply(blocks: [.note("Running \(line.prefix(200)) (started by \(person) \(waited) ago); the result follows.", .none)],
                              summary: "running \(line.prefix(200))")
            box.state.withLock { s in
                guard !s.finished else { return }
                s.posting = Task { await post(reply) }
            }
        }
    }

    /// The command ended: no notice (or no second one).
    /// - Returns: whether a notice was posted that the result may replace.
    func finish() async -> Bool {
        timer.cancel()
        let posting = box.state.withLock { s -> Task<Bool, Never>? in
            s.finished = true
            return s.posting
        }
        return await posting?.value ?? false
    }
}

extension Dispatcher.Handled {
    func with(_ pair: (Reply?, Bool)) -> Dispatcher.Handled {
        Dispatcher.Handled(reply: pair.0, recorded: pair.1)
    }
}

/// An instant command's processed mark was already taken: a redelivery, its work undone.
struct DuplicateDelivery: Error {}
