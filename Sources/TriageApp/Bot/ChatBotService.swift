import Foundation
import Logging
import ServiceLifecycle
import TriageCore
import TriageStore

/// Polls a platform, hands each message to the dispatcher (which commits the cursor with the
/// handling), and wakes the outbox. Stops gracefully: the command in flight finishes first.
public final class ChatBotService: Service, Sendable {
    let platform: any ChatPlatform
    let dispatcher: Dispatcher
    let store: TimelineStore
    let outbox: OutboxService
    let logger: Logger

    public init(platform: any ChatPlatform, dispatcher: Dispatcher, store: TimelineStore, outbox: OutboxService, logger: Logger) {
        self.platform = platform
        self.dispatcher = dispatcher
        self.store = store
        self.outbox = outbox
        self.logger = logger
    }

    public func run() async throws {
        let registry = dispatcher.registry
        do {
            try await cancelWhenShuttingDown { try await self.platform.start(registry: registry, store: self.store) }
        } catch is CancellationError {
            logger.info("poller stopped before it started", metadata: ["chat.platform": "\(platform.name)"])
            return
        }
        let name = platform.name
        var cursor = try await store.read { tx in try tx.cursor(platform: name) }
        // Capped low so polling resumes within 2 s of an outage ending (a failed poll is cheap).
        var backoff = Backoff(base: 0.5, cap: 1.5)
        // The poll is cancelled on shutdown; handling of a batch already received is not.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let batch: PollBatch
            do {
                let since = cursor
                batch = try await cancelWhenShuttingDown { try await self.platform.poll(cursor: since) }
                backoff.reset()
            } catch is CancellationError {
                break
            } catch let fatal as FatalPlatformError {
                logger.critical("platform stopped", metadata: ["chat.platform": "\(name)", "error": "\(fatal.description)"])
                throw fatal
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                // Never sooner than the server asked (429 retry_after), never a hot loop.
                let delay = max(backoff.next(), (error as? RetryAfterHinting)?.retryAfter ?? 0)
                logger.warning("poll failed; retrying", metadata: ["chat.platform": "\(name)", "error": "\(error)",
                                                                     "retry.seconds": "\(String(format: "%.1f", delay))"])
                try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                continue
            }
            for item in batch.items {
                if let message = item.message {
                    _ = await dispatcher.handle(message, delivery: Dispatcher.Delivery(cursor: item.cursor, enqueue: true))
                    outbox.wake()
                } else if let c = item.cursor {
                    try await store.write { tx in try tx.setCursor(c, platform: name) }
                }
                if let c = item.cursor { cursor = c }
            }
            if let c = batch.cursor {
                try await store.write { tx in try tx.setCursor(c, platform: name) }
                cursor = c
            }
        }
        logger.info("poller stopped", metadata: ["chat.platform": "\(name)"])
    }
}

/// Runs `body`, cancelling it when graceful shutdown begins.
func cancelWhenShuttingDown<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try? await gracefulShutdown()
            throw CancellationError()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw CancellationError() }
        return value
    }
}
