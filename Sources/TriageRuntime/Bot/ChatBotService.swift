import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TriageChat
import TriageCore
import TriageStore

/// Polls a platform and runs each command in a task of its own: a slow command never delays
/// another (commands in one room keep their order unless one runs long, see ``RoomLanes``).
///
/// Exactly once across crashes: every command of a batch that may touch a database, the
/// network or wait is journaled in one transaction before it runs; its handling commit (reply
/// in the outbox, processed mark) closes the journal entry. At start-up, an entry that never
/// closed is retried once; one that started twice is quarantined with a reply, so no input can
/// keep the bot down. Instant commands (`/ping`, `/help`, usage errors) skip the journal: one
/// transaction records each (processed mark, reply, cursor), and the cursor is a watermark
/// that moves past a batch only once all of it is recorded (``CursorWatermark``). The first
/// batch after a start is journaled whole, so an instant command that kills the process is
/// quarantined like any other.
///
/// Stops gracefully: polling stops, commands in flight get `shutdownGrace` seconds to finish,
/// then are cut (and say so).
public final class ChatBotService: Service, Sendable {
    let platform: any ChatSource
    let dispatcher: Dispatcher
    let store: BotStore
    let logger: Logger
    let shutdownGrace: Double
    let lanes: RoomLanes
    /// Where to say "not run" when the store cannot record (the platform's own sink, bypassing
    /// the outbox, which lives in the store).
    let sink: (any ChatSink)?
    private let inFlight = InFlight()
    private let watermark = CursorWatermark()
    /// Seconds the next poll waits at most for the instant commands of the last batch.
    static let instantWait: Double = 2
    /// Set once a batch has been journaled whole since the start (see the type's comment).
    private let fastPathOpen = Atomic<Bool>(false)
    /// Commands answered "not run" while the store could not record (once each per process);
    /// when the store recovers they are marked handled, never run late.
    private let refused = Mutex<Set<String>>([])

    public init(platform: any ChatSource, sink: (any ChatSink)? = nil, dispatcher: Dispatcher, store: BotStore, logger: Logger,
                shutdownGrace: Double = 3, headStart: Double = 0.5) {
        self.platform = platform
        self.sink = sink
        self.dispatcher = dispatcher
        self.store = store
        self.logger = logger
        self.shutdownGrace = shutdownGrace
        self.lanes = RoomLanes(headStart: headStart)
    }

    public func run() async throws {
        let host = StorePlatformHost(platform: platform.name, store: store, registry: dispatcher.registry)
        do {
            try await cancelWhenGracefulShutdown { try await self.platform.start(host: host) }
        } catch is CancellationError {
            logger.info("poller stopped before it started", metadata: ["chat.platform": "\(platform.name)"])
            return
        }
        let name = platform.name
        var cursor = try await store.read { tx in try tx.cursor(platform: name) }
        var failure: Error?
        await withDiscardingTaskGroup { group in
            do {
                for message in try await recover() {
                    let ticket = lanes.reserve(room: message.room)
                    group.addTask { await self.runCommand(message, ticket, slot: nil, retry: true) }
                }
            } catch {
                logger.error("could not read unfinished commands", metadata: ["error": "\(error)"])
            }
            // Capped low so polling resumes within 2 s of an outage ending (a failed poll is cheap).
            var backoff = Backoff(base: 0.5, cap: 1.5)
            // The poll is cancelled on shutdown; commands already received are not.
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let batch: PollBatch
                do {
                    let since = cursor
                    batch = try await cancelWhenGracefulShutdown { try await self.platform.poll(cursor: since) }
                    backoff.reset()
                } catch is CancellationError {
                    break
                } catch let fatal as FatalPlatformError {
                    logger.critical("platform stopped", metadata: ["chat.platform": "\(name)", "error": "\(fatal.description)"])
                    failure = fatal
                    break
                } catch {
                    if Task.isShuttingDownGracefully || Task.isCancelled { break }
                    // Never sooner than the server asked (429 retry_after), never a hot loop.
                    let delay = max(backoff.next(), (error as? RetryAfterHinting)?.retryAfter ?? 0)
                    logger.warning("poll failed; retrying", metadata: ["chat.platform": "\(name)", "error": "\(error)",
                                                                         "retry.seconds": "\(String(format: "%.1f", delay))"])
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
                    continue
                }
                do {
                    let (fresh, recorded) = try await journal(batch)
                    if let c = batch.items.compactMap(\.cursor).last { cursor = c }
                    if let c = batch.cursor { cursor = c }
                    for (message, slot) in fresh {
                        // The lane place is taken here, in arrival order: the tasks may start in any order.
                        let ticket = lanes.reserve(room: message.room)
                        group.addTask { await self.runCommand(message, ticket, slot: slot) }
                    }
                    // The next poll acknowledges this batch (Telegram forgets updates before its
                    // offset): not before its instant commands are recorded. They take a
                    // millisecond, or a lane's head start behind a long command in their room;
                    // any still open after that are journaled, so a crash retries them.
                    if let recorded { await settle(recorded) }
                } catch {
                    // Nothing was journaled and the cursor did not move: the batch comes again.
                    logger.error("could not journal received commands; polling them again", metadata: ["chat.platform": "\(name)", "error": "\(error)"])
                    await refuse(batch, because: StoreFault(error)?.description ?? "store error")
                    let delay = backoff.next()
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
                }
            }
            // Shutting down: give commands in flight a moment, then cut them.
            if await !inFlight.waitUntilIdle(atMost: shutdownGrace) {
                logger.warning("cutting commands still running at shutdown", metadata: ["chat.platform": "\(name)", "commands.running": "\(inFlight.count)"])
                group.cancelAll()
            }
        }
        logger.info("poller stopped", metadata: ["chat.platform": "\(name)"])
        if let failure { throw failure }
    }

    /// Runs one command in its room's lane: journaled (`slot` nil), or instant with its place
    /// under the cursor watermark.
    ///
    /// A command retried after a crash counts its second start when it really starts (out of
    /// its lane), not when it is queued: a kill while it waits is no proof that it kills.
    func runCommand(_ message: InboundMessage, _ ticket: RoomLanes.Ticket, slot: CursorWatermark.Slot?, retry: Bool = false) async {
        inFlight.enter()
        defer { inFlight.leave() }
        await lanes.run(ticket) {
            if retry {
                let name = platform.name
                do {
                    try await store.write { tx in try tx.restartJournaled(platform: name, messageID: message.messageID) }
                } catch {
                    logger.error("could not record a retry's start; not retried now", metadata: ["chat.message": "\(message.messageID)", "error": "\(error)"])
                    return
                }
            }
            var delivery = Dispatcher.Delivery(enqueue: true, journaled: slot == nil, sink: sink)
            delivery.watermark = slot
            let handled = await dispatcher.handleRecorded(message, delivery: delivery)
            if !handled.recorded, let reply = handled.reply {
                // The outbox could not take it: tell the room directly, once.
                await sendDirect(reply, to: message, part: "unrecorded")
            }
        }
        // A path that committed nothing (another bot's command, a duplicate, a store fault)
        // still gives up its place; the cursor is stored if that moved the watermark.
        if let cursor = slot?.settle() { await storeCursor(cursor) }
        slot?.publish()
    }

    /// Waits up to ``instantWait`` for a batch's instant commands to be recorded, then
    /// journals the ones still open in one transaction (each keeps running; its handling
    /// commit finishes the entry), so polling past them loses none of them in a crash.
    func settle(_ batch: InstantBatch) async {
        await batch.recorded.wait(atMost: Self.instantWait)
        guard !batch.recorded.isOpen else { return }
        let name = platform.name
        let open = batch.commands.filter { !$0.slot.isSettled }
        do {
            let encoded = try open.map { ($0, String(decoding: try JSONEncoder().encode($0.message), as: UTF8.self)) }
            let late = try await store.write { tx -> [CursorWatermark.Slot] in
                var late: [CursorWatermark.Slot] = []
                for (command, json) in encoded where !command.slot.isSettled {
                    let m = command.message
                    _ = try tx.journal(platform: name, messageID: m.messageID, room: m.room, message: json, at: m.receivedAt)
                    command.slot.markJournaledLate()
                    late.append(command.slot)
                }
                return late
            }
            logger.warning("instant commands not recorded in time; journaled so a crash retries them",
                           metadata: ["chat.platform": "\(name)", "commands.journaled": "\(late.count)"])
            // Journaled is recorded: their places under the watermark close now.
            for slot in late {
                if let cursor = slot.settle() { await storeCursor(cursor) }
                slot.publish()
            }
        } catch {
            logger.error("could not journal slow instant commands; polling on", metadata: ["chat.platform": "\(name)", "error": "\(error)"])
        }
    }

    func storeCursor(_ cursor: String) async {
        let name = platform.name
        do {
            try await store.write { tx in try tx.setCursor(cursor, platform: name) }
        } catch {
            logger.error("could not store cursor", metadata: ["chat.platform": "\(name)", "error": "\(error)"])
        }
    }

    /// Answers each command of a batch that could not be journaled: "not run", once per command.
    func refuse(_ batch: PollBatch, because why: String) async {
        for item in batch.items {
            guard let m = item.message, parserSeesCommand(m) else { continue }
            let first = refused.withLock { $0.insert(m.messageID).inserted }
            guard first else { continue }
            let reply = Reply(blocks: [.note("Not run: Triage cannot record it (\(why)). It will not run later; "
                                             + "type it again once Triage can record.", .critical)],
                              summary: "not run: cannot record (\(why))")
            await sendDirect(reply, to: m, part: "refused")
        }
    }

    func parserSeesCommand(_ m: InboundMessage) -> Bool {
        dispatcher.parser.isCommand(m.text)
    }

    func sendDirect(_ reply: Reply, to m: InboundMessage, part: String) async {
        guard let sink else { return }
        do {
            try await sink.sendAll(OutgoingMessage(room: m.room, replyTo: m.messageID, key: "\(m.platform):\(m.room):\(m.messageID):\(part)", reply: reply))
        } catch {
            logger.error("could not tell the room that a command was not run", metadata: ["chat.room": "\(m.room)", "error": "\(error)"])
        }
    }

    /// Journals the batch's commands that need it and moves the cursor past the batch when
    /// nothing of it (or before it) is left to record, in one transaction.
    /// - Returns: the commands not handled before, to run now, each instant one with its place
    ///   under the watermark.
    func journal(_ batch: PollBatch) async throws -> ([(InboundMessage, CursorWatermark.Slot?)], InstantBatch?) {
        let name = platform.name
        let cursor = batch.cursor ?? batch.items.compactMap(\.cursor).last
        let refusedIDs = refused.withLock { $0 }
        let whole = !fastPathOpen.load(ordering: .acquiring)
        var encoded: [(InboundMessage, String)] = []
        var instant: [InboundMessage] = []
        for item in batch.items {
            guard let m = item.message else { continue }
            if refusedIDs.contains(m.messageID) || whole || !dispatcher.isInstant(m) {
                encoded.append((m, String(decoding: try JSONEncoder().encode(m), as: UTF8.self)))
            } else if parserSeesCommand(m) {
                instant.append(m)
            }
            // Anything else is chatter: nothing to run or record, the cursor passes it.
        }
        let pending = encoded
        let places = watermark.begin(cursor: cursor, instant: instant.count)
        let run = zip(instant, places.instant).map { ($0, Optional($1)) }
        let wait = instant.isEmpty ? nil : InstantBatch(recorded: places.recorded,
                                                        commands: zip(instant, places.instant).map { InstantBatch.Command(message: $0, slot: $1) })
        if pending.isEmpty {
            // Nothing to journal; a cursor the store cannot take only lags (redeliveries are dropped).
            if let c = places.journal.settle() { await storeCursor(c) }
            places.journal.publish()
            return (run, wait)
        }
        let fresh: [InboundMessage]
        do {
            fresh = try await store.write { tx in
                var fresh: [InboundMessage] = []
                for (m, json) in pending {
                    if refusedIDs.contains(m.messageID) {
                        // Answered "not run" during a store outage: handled, never run late.
                        _ = try tx.markProcessed(platform: name, messageID: m.messageID)
                        continue
                    }
                    if try tx.journal(platform: name, messageID: m.messageID, room: m.room, message: json, at: m.receivedAt) {
                        fresh.append(m)
                    }
                }
                if let c = places.journal.settle() { try tx.setCursor(c, platform: name) }
                return fresh
            }
        } catch {
            // The batch comes again: this registration is void.
            watermark.abandon(places.journal)
            throw error
        }
        places.journal.publish()
        if whole && !fresh.isEmpty { fastPathOpen.store(true, ordering: .releasing) }
        if !refusedIDs.isEmpty {
            refused.withLock { r in for (m, _) in pending { r.remove(m.messageID) } }
        }
        return (fresh.map { ($0, nil) } + run, wait)
    }

    /// Commands that started before a crash and never finished: retried once; a command that
    /// started twice is quarantined (the room is told, with a reference).
    func recover() async throws -> [InboundMessage] {
        let name = platform.name
        let unfinished = try await store.read { tx in try tx.unfinishedEvents(platform: name) }
        var retry: [InboundMessage] = []
        for event in unfinished {
            guard let message = try? JSONDecoder().decode(InboundMessage.self, from: Data(event.message.utf8)) else {
                logger.error("unreadable journaled command quarantined", metadata: ["chat.platform": "\(name)", "chat.message": "\(event.messageID)"])
                try await store.write { tx in try tx.quarantine(platform: name, messageID: event.messageID, at: Date()) }
                continue
            }
            if event.starts >= 2 {
                let ref = String(UInt32.random(in: 0...UInt32.max), radix: 16)
                logger.critical("command quarantined: it stopped Triage twice", metadata: [
                    "chat.platform": "\(name)", "chat.room": "\(message.room)", "chat.message": "\(message.messageID)",
                    "error.ref": "\(ref)", "command.text": "\(message.text.prefix(300))"])
                let line = (message.tap.map { "a tap on a button (\($0.data.prefix(64)))" } ?? message.text).prefix(200)
                let reply = Reply(blocks: [.note("This command stopped Triage twice and was skipped (ref \(ref)): \(line)", .critical)],
                                  summary: "quarantined (ref \(ref)): \(line)")
                try await store.write { tx in
                    try tx.quarantine(platform: name, messageID: message.messageID, at: Date())
                    if let incident = try tx.activeIncident(platform: name, room: message.room), let id = incident.id {
                        try tx.append(TimelineEvent(incidentID: id, at: Date(), actor: "triage", kind: .command, command: String(line),
                                                    text: "quarantined: this command stopped Triage twice (ref \(ref))"))
                    }
                    try tx.enqueue(OutboxMessage(platform: name, room: message.room, replyTo: message.messageID,
                                                 key: "\(name):\(message.room):\(message.messageID)",
                                                 reply: reply, createdAt: Date()))
                }
            } else {
                logger.warning("retrying a command interrupted by a crash", metadata: ["chat.platform": "\(name)", "chat.message": "\(message.messageID)"])
                retry.append(message)
            }
        }
        return retry
    }
}

/// A batch's instant commands, each with its place under the watermark, and the gate that
/// opens once all of them are recorded.
struct InstantBatch: Sendable {
    struct Command: Sendable {
        let message: InboundMessage
        let slot: CursorWatermark.Slot
    }
    let recorded: Gate
    let commands: [Command]
}

/// Counts commands in flight, and lets shutdown wait for them to finish.
final class InFlight: Sendable {
    private let state = Mutex<(count: Int, idle: [CheckedContinuation<Void, Never>])>((0, []))

    var count: Int { state.withLock { $0.count } }

    func enter() { state.withLock { $0.count += 1 } }

    func leave() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.count -= 1
            guard s.count == 0 else { return [] }
            let w = s.idle
            s.idle = []
            return w
        }
        for w in waiters { w.resume() }
    }

    /// True when every command finished within `seconds`.
    func waitUntilIdle(atMost seconds: Double) async -> Bool {
        let gate = Gate()
        let done: Bool = state.withLock { s in s.count == 0 }
        if done { return true }
        Task {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now: Bool = state.withLock { s in
                    if s.count == 0 { return true }
                    s.idle.append(c)
                    return false
                }
                if now { c.resume() }
            }
            gate.open()
        }
        await gate.wait(atMost: seconds)
        return count == 0
    }
}
