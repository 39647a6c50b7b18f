import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TriageChat
import TriageCore
import TriageStore

/// Sends queued replies in order, per platform; survives restarts (the queue is in SQLite).
/// A room whose reply must wait (rate limit) does not hold up other rooms.
///
/// The store hands it each reply in memory right after the commit that queued it, so a reply
/// leaves without being read back; the outbox table is the recovery log, read at start-up,
/// after a room moved, and when the outbox has been idle (a reply queued by another process).
/// Sent marks are batched: one transaction per pass for the single-part replies it sent; a
/// reply in several parts records each part as it goes, so a restart resumes at the first
/// part not sent.
public final class OutboxService: Service, Sendable {
    let platform: any ChatSink
    let store: BotStore
    let logger: Logger

    struct State {
        /// Rooms that must not be sent to before a time (after 429 or a 5xx).
        var notBefore: [String: Date] = [:]
        /// Paces rooms by the platform's ``SendRateLimit``.
        var limiter = RoomRateLimiter()
        /// Replies known to be unsent, by outbox id (ids grow in commit order).
        var queue: [Int64: Queued] = [:]
        /// Read the unsent replies from the store before the next pass.
        var reload = true
        /// Replies finished lately (a reply handed over by a commit can also be read by a
        /// reload that ran just before the hand-over: it must not be sent twice).
        var finished = RecentIDs(capacity: 4096)
        /// Parts delivered whose sent mark is not recorded yet: batched, or refused by the
        /// store (disk full). Never sent again; recorded at the end of the pass.
        var marks: [PartRef: SentMark] = [:]
        /// Parts this process tried to send and has not delivered yet (a "sending" mark of one
        /// of them is this process's own, not left by a crash).
        var attempted: Set<PartRef> = []
        /// Whether holds and recent sends were loaded from the store.
        var restored = false
    }
    /// One reply to send, and where this process learned of it.
    struct Queued {
        var message: OutboxMessage
        /// Read from the store (a part may have been sent by an earlier process), not handed
        /// over by this process's commit (nothing of it was sent).
        var fromStore: Bool
    }
    /// One part of one queued reply.
    struct PartRef: Hashable {
        var outboxID: Int64
        var part: Int
    }
    /// A sent mark still to record.
    struct SentMark {
        var messageIDs: [String]
        var complete: Bool
        var at: Date
    }
    private let state = Mutex(State())
    private let signal: WakeSignal
    let clock: any TriageClock
    /// Seconds to keep sending after shutdown begins, for rooms that must wait.
    let drainTimeout: Double
    /// Seconds of an empty outbox after a send before freed heap memory is given back.
    static let trimAfterIdle: Double = 2
    /// Sent marks recorded in one transaction at most.
    static let marksPerBatch = 8
    /// Seconds of idle after which the store is read again.
    static let idleReload: Double = 30

    public init(platform: any ChatSink, store: BotStore, logger: Logger, drainTimeout: Double = 10, clock: any TriageClock = SystemClock()) {
        self.clock = clock
        signal = WakeSignal(clock: clock)
        self.platform = platform
        self.store = store
        self.logger = logger
        self.drainTimeout = drainTimeout
    }

    /// Tells the outbox to look in the store for something new to send.
    public func wake() {
        state.withLock { $0.reload = true }
        signal.ring()
    }

    /// A reply just committed: queue it and wake the sender.
    func accept(_ message: OutboxMessage) {
        guard let id = message.id else { return }
        let fresh = state.withLock { s -> Bool in
            guard s.queue[id] == nil, !s.finished.contains(id) else { return false }
            s.queue[id] = Queued(message: message, fromStore: false)
            return true
        }
        if fresh { signal.ring() }
    }

    public func run() async throws {
        let name = platform.name
        store.onEnqueue(platform: name) { [weak self] message in self?.accept(message) }
        var drainDeadline: Date?
        var sentSinceTrim = false
        var idleSince: Date?
        // Drain what is queued even while shutting down (up to `drainTimeout` for rooms that
        // must wait), then stop; anything left is sent after the next start.
        while true {
            if !state.withLock({ $0.restored }) { await restorePacing() }
            if state.withLock({ $0.reload }) { await reload() }
            let pending = state.withLock { s in s.queue.sorted { $0.key < $1.key }.map(\.value) }
            var nextWake: Double = Self.idleReload
            var blockedRooms = Set<String>()
            for queued in pending {
                let message = queued.message
                if blockedRooms.contains(message.room) { continue }
                if let until = state.withLock({ $0.notBefore[message.room] }), until > clock.now {
                    blockedRooms.insert(message.room)
                    nextWake = min(nextWake, until.timeIntervalSince(clock.now))
                    continue
                }
                if let limit = platform.sendRateLimit(room: message.room) {
                    let wait = state.withLock { $0.limiter.delay(room: message.room, limit: limit, now: clock.now) }
                    if wait > 0 {
                        blockedRooms.insert(message.room)
                        nextWake = min(nextWake, wait)
                        continue
                    }
                }
                // Sent marks are batched, a few at a time: a kill loses (and so resends) no more.
                if state.withLock({ $0.marks.count }) >= Self.marksPerBatch { _ = await recordMarks() }
                if await deliver(queued) == false {
                    blockedRooms.insert(message.room)
                    if let until = state.withLock({ $0.notBefore[message.room] }) {
                        nextWake = min(nextWake, max(0.01, until.timeIntervalSince(clock.now)))
                    } else {
                        nextWake = 0.01
                    }
                }
            }
            if !(await recordMarks()) { nextWake = min(nextWake, 5) }
            if state.withLock({ $0.reload }) && blockedRooms.isEmpty { nextWake = 0 }
            if !pending.isEmpty { sentSinceTrim = true; idleSince = nil }
            let empty = state.withLock { $0.queue.isEmpty }
            // After a burst, once the outbox has stayed empty for a moment, hand the memory
            // the burst freed back to the system (a bot idles far longer than it works), and
            // now and then the code and data pages start-up and rare commands left resident.
            if empty && sentSinceTrim {
                let since = idleSince ?? clock.now
                idleSince = since
                let left = Self.trimAfterIdle - clock.now.timeIntervalSince(since)
                if left <= 0 {
                    MallocTuning.trim()
                    ColdPages.pageOutIfDue(now: clock.now)
                    sentSinceTrim = false
                    idleSince = nil
                } else {
                    nextWake = min(nextWake, left)
                }
            }
            if Task.isShuttingDownGracefully || Task.isCancelled {
                if empty && state.withLock({ $0.marks.isEmpty }) { break }
                let deadline = drainDeadline ?? clock.now.addingTimeInterval(drainTimeout)
                drainDeadline = deadline
                if blockedRooms.isEmpty && !empty { continue }
                let left = deadline.timeIntervalSince(clock.now)
                if left <= 0 {
                    logger.warning("replies left in the outbox at shutdown; they are sent after the next start",
                                   metadata: ["chat.platform": "\(name)", "outbox.pending": "\(pending.count)"])
                    break
                }
                try? await Task.sleep(nanoseconds: UInt64(max(0.01, min(nextWake, left)) * 1e9))
                continue
            }
            if nextWake > 0 {
                let idle = empty && nextWake >= Self.idleReload
                await waitForWake(seconds: nextWake)
                // A long quiet spell: look in the store for replies queued by another process.
                if idle && state.withLock({ $0.queue.isEmpty }) { state.withLock { $0.reload = true } }
            }
        }
        logger.info("outbox stopped", metadata: ["chat.platform": "\(name)"])
    }

    /// Reads the unsent replies from the store into the queue (at most 100 a time: the next
    /// pass reads on while a full page came back).
    func reload() async {
        let name = platform.name
        guard let stored = try? await store.read({ tx in try tx.pendingOutbox(platform: name) }) else { return }
        state.withLock { s in
            s.reload = stored.count >= 100
            for message in stored {
                guard let id = message.id, !s.finished.contains(id) else { continue }
                s.queue[id] = Queued(message: message, fromStore: true)
            }
        }
    }

    /// Sends what is left of one reply, part by part. A reply read from the store records
    /// "sending" before each call and resumes after the parts already sent; a reply in several
    /// parts records each part "sent" (with the platform message ids) right after it, so a
    /// restart resumes at the first part not sent; a one-part reply's mark is batched. False
    /// when its room must wait.
    ///
    /// A part found in "sending" was being sent when the process died: it may or may not have
    /// arrived. It is sent again (Matrix: with the same txnId, so the homeserver posts it once;
    /// Telegram has no idempotency key, so it may show twice): a reply is never dropped.
    func deliver(_ queued: Queued) async -> Bool {
        let message = queued.message
        guard let id = message.id else { return true }
        var sentNow = 0
        defer { recordPacing(room: message.room, count: sentNow) }
        do {
            let reply = try message.decodedReply()
            let outgoing = OutgoingMessage(room: message.room, replyTo: message.replyTo, key: message.key,
                                           reply: reply, attempts: message.attempts)
            let count = max(1, platform.messageCount(for: reply))
            let recorded = queued.fromStore ? ((try? await store.read { tx in try tx.outboxParts(outboxID: id) }) ?? []) : []
            var target: String?
            if let replaced = message.replaces {
                // The message it replaces may have been sent earlier in this pass: record its mark first.
                _ = await recordMarks()
                target = try await store.read { tx in try tx.sentMessageIDs(platform: message.platform, key: replaced).first }
            }
            for part in 0..<count {
                let ref = PartRef(outboxID: id, part: part)
                if state.withLock({ $0.marks[ref] != nil }) { continue }
                let before = recorded.first { $0.part == part }
                if before?.status == .sent { continue }
                let triedHere = state.withLock { !$0.attempted.insert(ref).inserted }
                if before?.status == .sending && !triedHere {
                    logger.warning("a reply part was being sent when Triage stopped; sending it again (it may show twice)",
                                   metadata: ["chat.room": "\(message.room)", "outbox.key": "\(message.key)",
                                              "outbox.part": "\(part)", "outbox.parts": "\(count)"])
                }
                if queued.fromStore || count > 1 {
                    // Best effort: when the store cannot take it, the part is still sent (the
                    // sent mark decides whether it is ever sent again).
                    _ = try? await store.write { tx in try tx.markPartSending(outboxID: id, part: part) }
                }
                let ids = part == 0 ? try await sendOrEdit(outgoing, replacing: target, editOnly: message.editOnly)
                                    : message.editOnly ? [] : try await platform.send(outgoing, part: part)
                sentNow += 1
                let complete = part == count - 1
                state.withLock { s in
                    _ = s.attempted.remove(ref)
                    s.marks[ref] = SentMark(messageIDs: ids, complete: complete, at: clock.now)
                    if complete { finish(id, in: &s) }
                }
                if count > 1 { _ = await recordMarks() }
            }
            state.withLock { finish(id, in: &$0) }
            return true
        } catch let error as DeliveryError {
            switch error.disposition {
            case .retry(let after):
                logger.warning("reply delayed", metadata: ["chat.room": "\(message.room)", "error": "\(error.message)",
                                                            "retry.seconds": "\(after)"])
                state.withLock { s in
                    s.queue[id]?.message.attempts += 1
                    // Parts sent before this one are recorded: read them back on the retry.
                    s.queue[id]?.fromStore = true
                }
                await hold(message, seconds: after) { tx in try tx.markFailed(outboxID: id, error: error.message, giveUp: false) }
                return false
            case .drop:
                state.withLock { s in
                    s.attempted = s.attempted.filter { $0.outboxID != id }
                    finish(id, in: &s)
                }
                logger.error("reply dropped", metadata: ["chat.room": "\(message.room)", "error": "\(error.message)"])
                _ = try? await store.write { tx in try tx.markFailed(outboxID: id, error: error.message, giveUp: true) }
                return true
            case .moved(let room):
                logger.notice("room moved; resending there", metadata: ["chat.room": "\(message.room)", "chat.new_room": "\(room)"])
                let platformName = platform.name
                _ = try? await store.write { tx in try tx.moveOutbox(platform: platformName, fromRoom: message.room, toRoom: room) }
                // The store has the new room: read the queue back from it.
                state.withLock { s in
                    s.queue = s.queue.filter { $0.value.message.room != message.room }
                    s.reload = true
                }
                return false
            }
        } catch {
            logger.error("reply failed", metadata: ["chat.room": "\(message.room)", "error": "\(error)"])
            let giveUp = message.attempts >= 20
            state.withLock { s in
                s.queue[id]?.message.attempts += 1
                s.queue[id]?.fromStore = true
                if giveUp { finish(id, in: &s) }
            }
            await hold(message, seconds: Double(min(30, 1 << min(message.attempts, 5)))) { tx in
                try tx.markFailed(outboxID: id, error: "\(error)", giveUp: giveUp)
            }
            return false
        }
    }

    /// The reply `id` is done (sent, or given up): out of the queue, never taken again.
    private func finish(_ id: Int64, in s: inout State) {
        s.queue[id] = nil
        s.finished.insert(id)
    }

    /// Records the batched sent marks in one transaction. False when the store refused them
    /// (they are kept, and the parts are not sent again).
    func recordMarks() async -> Bool {
        let marks = state.withLock { $0.marks }
        guard !marks.isEmpty else { return true }
        do {
            try await store.write { tx in
                for (ref, mark) in marks {
                    try tx.markPartSent(outboxID: ref.outboxID, part: ref.part, messageIDs: mark.messageIDs,
                                        complete: mark.complete, at: mark.at)
                }
            }
            state.withLock { s in for ref in marks.keys { s.marks[ref] = nil } }
            return true
        } catch {
            // Delivered but not recorded: a blind retry would send it again and again.
            logger.error("replies delivered but the store cannot record it; they are not sent again",
                         metadata: ["outbox.marks": "\(marks.count)", "error": "\(error)"])
            return false
        }
    }

    /// Sends the first part of `message`, or edits the message `target` into it when the
    /// reply takes the place of an earlier one and the platform can: an edit is made again
    /// harmlessly after a crash ("not modified" is a success). A message that is gone (or was
    /// never sent) gets a reply of its own instead, unless `editOnly`.
    /// - Returns: the platform message ids the part now is (the edited message's, for an edit).
    func sendOrEdit(_ message: OutgoingMessage, replacing target: String?, editOnly: Bool) async throws -> [String] {
        guard let target, platform.canEdit(into: message.reply) else {
            if editOnly { return [] }
            return try await platform.send(message, part: 0)
        }
        do {
            try await platform.edit(room: message.room, messageID: target, reply: message.reply)
            return [target]
        } catch let error as DeliveryError where error.disposition == .drop {
            logger.notice(editOnly ? "the message to edit is gone; nothing sent" : "the message to edit is gone; sending the reply instead",
                          metadata: ["chat.room": "\(message.room)", "chat.target": "\(target)", "error": "\(error.message)"])
            if editOnly { return [] }
            return try await platform.send(message, part: 0)
        }
    }

    /// Keeps the room of `message` waiting `seconds`, in memory and in the store (a restart
    /// waits too), recorded in one transaction with `also` (the failed attempt). A store fault
    /// only loses the wait across a restart.
    func hold(_ message: OutboxMessage, seconds: Double, also: @escaping @Sendable (StoreTransaction) throws -> Void) async {
        let until = clock.now.addingTimeInterval(seconds)
        let room = message.room
        state.withLock { $0.notBefore[room] = until }
        let platformName = platform.name
        _ = try? await store.write { tx in
            try also(tx)
            try tx.setHold(platform: platformName, room: room, notBefore: until)
        }
    }

    /// Counts `count` platform messages just sent to `room` for its pacing.
    func recordPacing(room: String, count: Int) {
        guard count > 0, let limit = platform.sendRateLimit(room: room) else { return }
        state.withLock { $0.limiter.record(room: room, limit: limit, count: count, now: clock.now) }
    }

    /// Loads what the previous process knew about waiting: rooms told to wait (429
    /// `retry_after`) and the sends of the last minute, so a restart neither sends into a
    /// pending `retry_after` nor bursts past the platform's pace.
    func restorePacing() async {
        let name = platform.name
        let now = clock.now
        guard let (holds, recent) = try? await store.write({ tx in
            (try tx.holds(platform: name, at: now), try tx.recentSends(platform: name, since: now.addingTimeInterval(-60)))
        }) else { return }
        var limits: [String: SendRateLimit] = [:]
        for send in recent where limits[send.room] == nil {
            limits[send.room] = platform.sendRateLimit(room: send.room)
        }
        state.withLock { s in
            for h in holds where h.notBefore > (s.notBefore[h.room] ?? .distantPast) { s.notBefore[h.room] = h.notBefore }
            for send in recent {
                if let limit = limits[send.room] ?? nil {
                    s.limiter.record(room: send.room, limit: limit, count: 1, now: send.at)
                }
            }
            s.restored = true
        }
        if !holds.isEmpty || !recent.isEmpty {
            logger.info("outbox pacing restored", metadata: ["chat.platform": "\(name)", "outbox.holds": "\(holds.count)",
                                                             "outbox.recent_sends": "\(recent.count)"])
        }
    }

    /// Sleeps until woken, `seconds` pass or shutdown begins, leaving no timer behind (a
    /// cancelled `Task.sleep` still fires later: one per reply sent would wake an idle bot
    /// hundreds of times a minute after a burst).
    private func waitForWake(seconds: Double) async {
        await withGracefulShutdownHandler {
            await signal.wait(atMost: seconds)
        } onGracefulShutdown: {
            self.signal.ring()
        }
    }
}
