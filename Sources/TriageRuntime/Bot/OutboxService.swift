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
        var waiter: CheckedContinuation<Void, Never>?
        var pendingWake = false
        /// Rooms that must not be sent to before a time (after 429 or a 5xx).
        var notBefore: [String: Date] = [:]
        /// Paces rooms by the platform's ``SendRateLimit``.
        var limiter = RoomRateLimiter()
        /// Delivered, but the store could not record it (disk full): never sent again; the
        /// mark is retried now and then.
        var sentUnrecorded: Set<Int64> = []
    }
    private let state = Mutex(State())
    /// Seconds to keep sending after shutdown begins, for rooms that must wait.
    let drainTimeout: Double
    /// Seconds of an empty outbox after a send before freed heap memory is given back.
    static let trimAfterIdle: Double = 2

    public init(platform: any ChatSink, store: BotStore, logger: Logger, drainTimeout: Double = 10) {
        self.platform = platform
        self.store = store
        self.logger = logger
        self.drainTimeout = drainTimeout
    }

    /// Tells the outbox there is something new to send.
    public func wake() {
        let w: CheckedContinuation<Void, Never>? = state.withLock { s in
            if let w = s.waiter { s.waiter = nil; return w }
            s.pendingWake = true
            return nil
        }
        w?.resume()
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
            let pending = (try? await store.read { tx in try tx.pendingOutbox(platform: name) }) ?? []
            var nextWake: Double = 30
            var blockedRooms = Set<String>()
            let unrecorded = state.withLock { $0.sentUnrecorded }
            if !unrecorded.isEmpty {
                await recordLateMarks(unrecorded)
                nextWake = min(nextWake, 5)
            }
            for message in pending {
                if let id = message.id, unrecorded.contains(id) { continue }
                if blockedRooms.contains(message.room) { continue }
                if let until = state.withLock({ $0.notBefore[message.room] }), until > Date() {
                    blockedRooms.insert(message.room)
                    nextWake = min(nextWake, until.timeIntervalSinceNow)
                    continue
                }
                if let limit = platform.sendRateLimit(room: message.room) {
                    let wait = state.withLock { $0.limiter.delay(room: message.room, limit: limit, now: Date()) }
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
                let since = idleSince ?? Date()
                idleSince = since
                let left = Self.trimAfterIdle - Date().timeIntervalSince(since)
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
                let deadline = drainDeadline ?? Date().addingTimeInterval(drainTimeout)
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

    /// Sends one message; false when its room must wait.
    func deliver(_ message: OutboxMessage) async -> Bool {
        guard let id = message.id else { return true }
        do {
            let reply = try message.decodedReply()
            try await platform.send(OutgoingMessage(room: message.room, replyTo: message.replyTo, key: message.key,
                                                    reply: reply, attempts: message.attempts))
            if let limit = platform.sendRateLimit(room: message.room) {
                let count = platform.messageCount(for: reply)
                state.withLock { $0.limiter.record(room: message.room, limit: limit, count: count, now: Date()) }
            }
            do {
                try await store.write { tx in try tx.markSent(outboxID: id) }
            } catch {
                // Delivered but not recorded: a blind retry would send it again and again.
                state.withLock { _ = $0.sentUnrecorded.insert(id) }
                logger.error("reply delivered but the store cannot record it; it is not sent again",
                             metadata: ["chat.room": "\(message.room)", "error": "\(error)"])
            }
            return true
        } catch let error as DeliveryError {
            switch error.disposition {
            case .retry(let after):
                state.withLock { $0.notBefore[message.room] = Date().addingTimeInterval(after) }
                logger.warning("reply delayed", metadata: ["chat.room": "\(message.room)", "error": "\(error.message)",
                                                            "retry.seconds": "\(after)"])
                _ = try? await store.write { tx in try tx.markFailed(outboxID: id, error: error.message, giveUp: false) }
                return false
            case .drop:
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
            _ = try? await store.write { tx in try tx.markFailed(outboxID: id, error: "\(error)", giveUp: message.attempts >= 20) }
            state.withLock { $0.notBefore[message.room] = Date().addingTimeInterval(Double(min(30, 1 << min(message.attempts, 5)))) }
            return false
        }
    }

    /// Records the sent marks the store could not take earlier.
    func recordLateMarks(_ ids: Set<Int64>) async {
        do {
            try await store.write { tx in for id in ids { try tx.markSent(outboxID: id) } }
            state.withLock { $0.sentUnrecorded.subtract(ids) }
        } catch {
            // Still failing: try again at the next pass.
        }
    }

    private func waitForWake(seconds: Double) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let immediate: Bool = self.state.withLock { s in
                        if s.pendingWake { s.pendingWake = false; return true }
                        s.waiter = c
                        return false
                    }
                    if immediate { c.resume() }
                }
            }
            // The helpers wake the loop only when they fired, not when cancelled: a wake from a
            // cancelled helper would leave `pendingWake` set and turn the loop into a busy loop.
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(max(0.01, seconds) * 1e9))
                if !Task.isCancelled { self.wake() }
            }
            group.addTask {
                try? await gracefulShutdown()
                if !Task.isCancelled { self.wake() }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
