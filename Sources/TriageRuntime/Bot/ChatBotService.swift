import Foundation
import Logging
import ServiceLifecycle
import TriageChat
import TriageCore
import TriageStore

/// Polls a platform and hands each message to the dispatcher (which commits the cursor with
/// the handling and queues the reply; the commit wakes the outbox). Stops gracefully: the
/// command in flight finishes first.
public final class ChatBotService: Service, Sendable {
    let platform: any ChatSource
    let dispatcher: Dispatcher
    let store: BotStore
    let logger: Logger

    public init(platform: any ChatSource, dispatcher: Dispatcher, store: BotStore, logger: Logger) {
        self.platform = platform
        self.dispatcher = dispatcher
        self.store = store
        self.logger = logger
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
        var backoff = Backoff()
        // The poll is cancelled on shutdown; handling of a batch already received is not.
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
