import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TriageChat
import TriageCore
import TriageStore

/// Sends queued replies in order, per platform; survives restarts (the queue is in SQLite).
/// A room whose reply must wait (rate limit) does not hold up other rooms. The store wakes it
/// after every commit that queues a reply for its platform.
public final class OutboxService: Service, Sendable {
    let platform: any ChatSink
    let store: BotStore
    let logger: Logger

    struct State {
        /// Rooms that must not be sent to before a time (after 429 or a 5xx).
        var notBefore: [String: Date] = [:]
        /// Paces rooms by the platform's ``SendRateLimit``.
        var limiter = RoomRateLimiter()
        /// Parts delivered whose sent mark the store could not take (disk full): never sent
        /// again; the marks are retried now and then.
        var sentUnrecorded: [PartRef: SentMark] = [:]
        /// Parts this process tried to send and has not delivered yet (a "sending" mark of one
        /// of them is this process's own, not left by a crash).
        var attempted: Set<PartRef> = []
        /// Whether holds and recent sends were loaded from the store.
        var restored = false
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
    }
    private let state = Mutex(State())
    private let signal: WakeSignal
    let clock: any TriageClock
    /// Seconds to keep sending after shutdown begins, for rooms that must wait.
    let drainTimeout: Double
    /// Seconds of an empty outbox after a send before freed heap memory is given back.
    static let trimAfterIdle: Double = 2

    public init(platform: any ChatSink, store: BotStore, logger: Logger, drainTimeout: Double = 10, clock: any TriageClock = SystemClock()) {
        self.clock = clock
        signal = WakeSignal(clock: clock)
        self.platform = platform
        self.store = store
        self.logger = logger
        self.drainTimeout = drainTimeout
    }

    /// Tells the outbox there is something new to send.
    public func wake() {
        signal.ring()
    }

    public func run() async throws {
        let name = platform.name
        store.onEnqueue(platform: name) { [weak self] in self?.wake() }
        var drainDeadline: Date?
        var sentSinceTrim = false
        var idleSince: Date?
        // Drain what is queued even while shutting down (up to `drainTimeout` for rooms that
        // must wait), then stop; anything left is sent after the next start.
        while true {
            if !state.withLock({ $0.restored }) { await restorePacing() }
            let pending = (try? await store.read { tx in try tx.pendingOutbox(platform: name) }) ?? []
            var nextWake: Double = 30
            var blockedRooms = Set<String>()
            let unrecorded = state.withLock { $0.sentUnrecorded }
            if !unrecorded.isEmpty {
                await recordLateMarks(unrecorded)
                nextWake = min(nextWake, 5)
            }
            let unrecordedDone = Set(unrecorded.filter(\.value.complete).map(\.key.outboxID))
            for message in pending {
                if let id = message.id, unrecordedDone.contains(id) { continue }
                if blockedRooms.contains(message.room) { continue }
                if let until = state.withLock({ $0.notBefore[message.room] }), until > clock.now {
                    blockedRooms.insert(message.room)
                    nextWake = min(nextWake, until.timeIntervalSinceNow)
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
                if await deliver(message) == false {
                    blockedRooms.insert(message.room)
                    if let until = state.withLock({ $0.notBefore[message.room] }) {
                        nextWake = min(nextWake, max(0.01, until.timeIntervalSinceNow))
                    } else {
                        nextWake = 0.01
                    }
                }
            }
            if pending.count >= 100 && blockedRooms.isEmpty { nextWake = 0 }
            if !pending.isEmpty { sentSinceTrim = true; idleSince = nil }
            // After a burst, once the outbox has stayed empty for a moment, hand the memory
            // the burst freed back to the system (a bot idles far longer than it works).
            if pending.isEmpty && sentSinceTrim {
                let since = idleSince ?? clock.now
                idleSince = since
                let left = Self.trimAfterIdle - clock.now.timeIntervalSince(since)
                if left <= 0 {
                    MallocTuning.trim()
                    sentSinceTrim = false
                    idleSince = nil
                } else {
                    nextWake = min(nextWake, left)
                }
            }
            if Task.isShuttingDownGracefully || Task.isCancelled {
                if pending.isEmpty { break }
                let deadline = drainDeadline ?? clock.now.addingTimeInterval(drainTimeout)
                drainDeadline = deadline
                if blockedRooms.isEmpty { continue }
                let left = deadline.timeIntervalSinceNow
                if left <= 0 {
                    logger.warning("replies left in the outbox at shutdown; they are sent after the next start",
                                   metadata: ["chat.platform": "\(name)", "outbox.pending": "\(pending.count)"])
                    break
                }
                try? await Task.sleep(nanoseconds: UInt64(max(0.01, min(nextWake, left)) * 1e9))
                continue
            }
            if nextWake > 0 { await waitForWake(seconds: nextWake) }
        }
        logger.info("outbox stopped", metadata: ["chat.platform": "\(name)"])
    }

    /// Sends what is left of one reply, part by part: "sending" is recorded before each call
    /// and "sent" with the platform message ids right after, so a restart resumes at the first
    /// part not sent. False when its room must wait.
    ///
    /// A part found in "sending" was being sent when the process died: it may or may not have
    /// arrived. It is sent again (Matrix: with the same txnId, so the homeserver posts it once;
    /// Telegram has no idempotency key, so it may show twice): a reply is never dropped.
    func deliver(_ message: OutboxMessage) async -> Bool {
        guard let id = message.id else { return true }
        var sentNow = 0
        defer { recordPacing(room: message.room, count: sentNow) }
        do {
            let reply = try message.decodedReply()
            let outgoing = OutgoingMessage(room: message.room, replyTo: message.replyTo, key: message.key,
                                           reply: reply, attempts: message.attempts)
            let count = max(1, platform.messageCount(for: reply))
            let recorded = (try? await store.read { tx in try tx.outboxParts(outboxID: id) }) ?? []
            let unrecorded = state.withLock { $0.sentUnrecorded }
            for part in 0..<count {
                let ref = PartRef(outboxID: id, part: part)
                if unrecorded[ref] != nil { continue }
                let before = recorded.first { $0.part == part }
                if before?.status == .sent { continue }
                let triedHere = state.withLock { !$0.attempted.insert(ref).inserted }
                if before?.status == .sending && !triedHere {
                    logger.warning("a reply part was being sent when Triage stopped; sending it again (it may show twice)",
                                   metadata: ["chat.room": "\(message.room)", "outbox.key": "\(message.key)",
                                              "outbox.part": "\(part)", "outbox.parts": "\(count)"])
                }
                // Best effort: when the store cannot take it, the part is still sent (the sent
                // mark below decides whether it is ever sent again).
                _ = try? await store.write { tx in try tx.markPartSending(outboxID: id, part: part) }
                let ids = try await platform.send(outgoing, part: part)
                sentNow += 1
                let complete = part == count - 1
                state.withLock { _ = $0.attempted.remove(ref) }
                do {
                    try await store.write { tx in
                        try tx.markPartSent(outboxID: id, part: part, messageIDs: ids, complete: complete)
                    }
                } catch {
                    // Delivered but not recorded: a blind retry would send it again and again.
                    state.withLock { $0.sentUnrecorded[ref] = SentMark(messageIDs: ids, complete: complete) }
                    logger.error("reply delivered but the store cannot record it; it is not sent again",
                                 metadata: ["chat.room": "\(message.room)", "error": "\(error)"])
                }
            }
            return true
        } catch let error as DeliveryError {
            switch error.disposition {
            case .retry(let after):
                logger.warning("reply delayed", metadata: ["chat.room": "\(message.room)", "error": "\(error.message)",
                                                            "retry.seconds": "\(after)"])
                await hold(message, seconds: after) { tx in try tx.markFailed(outboxID: id, error: error.message, giveUp: false) }
                return false
            case .drop:
                state.withLock { s in s.attempted = s.attempted.filter { $0.outboxID != id } }
                logger.error("reply dropped", metadata: ["chat.room": "\(message.room)", "error": "\(error.message)"])
                _ = try? await store.write { tx in try tx.markFailed(outboxID: id, error: error.message, giveUp: true) }
                return true
            case .moved(let room):
                logger.notice("room moved; resending there", metadata: ["chat.room": "\(message.room)", "chat.new_room": "\(room)"])
                let platformName = platform.name
                _ = try? await store.write { tx in try tx.moveOutbox(platform: platformName, fromRoom: message.room, toRoom: room) }
                return false
            }
        } catch {
            logger.error("reply failed", metadata: ["chat.room": "\(message.room)", "error": "\(error)"])
            await hold(message, seconds: Double(min(30, 1 << min(message.attempts, 5)))) { tx in
                try tx.markFailed(outboxID: id, error: "\(error)", giveUp: message.attempts >= 20)
            }
            return false
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

    /// Records the sent marks the store could not take earlier.
    func recordLateMarks(_ marks: [PartRef: SentMark]) async {
        do {
            try await store.write { tx in
                for (ref, mark) in marks {
                    try tx.markPartSent(outboxID: ref.outboxID, part: ref.part, messageIDs: mark.messageIDs, complete: mark.complete)
                }
            }
            state.withLock { s in for ref in marks.keys { s.sentUnrecorded[ref] = nil } }
        } catch {
            // Still failing: try again at the next pass.
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
