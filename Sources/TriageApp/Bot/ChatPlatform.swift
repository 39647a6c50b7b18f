import Foundation
import TriageCore
import TriageStore

/// One inbound item of a poll: a message to handle (or nil for updates that are not for us)
/// and the cursor to store once it has been handled.
public struct PollItem: Sendable {
    public var message: InboundMessage?
    /// Stored in the same transaction as the message's handling (Telegram: update_id + 1).
    public var cursor: String?

    public init(message: InboundMessage?, cursor: String?) {
        self.message = message
        self.cursor = cursor
    }
}

/// The result of one long-poll.
public struct PollBatch: Sendable {
    public var items: [PollItem]
    /// Stored after the whole batch has been handled (Matrix: next_batch).
    public var cursor: String?

    public init(items: [PollItem], cursor: String?) {
        self.items = items
        self.cursor = cursor
    }
}

/// A failure that ends a platform's service (bad token, forbidden): retrying cannot help.
public struct FatalPlatformError: PresentableError {
    public var platform: String
    public var message: String

    public init(platform: String, message: String) {
        self.platform = platform
        self.message = message
    }

    public var description: String { "\(platform): \(message)" }
}

/// A delivery failure with what to do next.
public struct DeliveryError: PresentableError {
    public enum Disposition: Sendable, Equatable {
        /// Try again after this many seconds.
        case retry(after: Double)
        /// Never deliverable (blocked, bad request): drop it.
        case drop
        /// The room moved (Telegram supergroup migration): resend there.
        case moved(to: String)
    }

    public var disposition: Disposition
    public var message: String

    public init(_ disposition: Disposition, _ message: String) {
        self.disposition = disposition
        self.message = message
    }

    public var description: String { message }
}

/// An error that says how long to wait before trying again (HTTP 429 `retry_after`).
/// The poller waits at least that long (and never less than its own backoff).
public protocol RetryAfterHinting: Error {
    /// Seconds to wait, when the server said.
    var retryAfter: Double? { get }
}

/// How fast the outbox may send to one room.
public struct SendRateLimit: Sendable, Equatable {
    /// Seconds between two messages to the room (Telegram: about 1).
    public var interval: Double
    /// At most this many messages in any 60 seconds (Telegram groups: 20), if limited.
    public var perMinute: Int?
    /// At most this many messages in any second to all rooms of the platform together
    /// (Telegram: about 30), if limited.
    public var globalPerSecond: Int?

    public init(interval: Double, perMinute: Int? = nil, globalPerSecond: Int? = nil) {
        self.interval = interval
        self.perMinute = perMinute
        self.globalPerSecond = globalPerSecond
    }
}

/// A chat platform reached over HTTP: long-poll for messages, send replies.
public protocol ChatPlatform: Sendable {
    /// `telegram`, `matrix`: the key for cursors, outbox and processed messages.
    var name: String { get }
    /// Called once before polling (log in, `setMyCommands`, …).
    func start(registry: CommandRegistry) async throws
    /// Called once before polling by ``ChatBotService``, with the store for platform state
    /// that must survive a restart (Matrix's device id). Defaults to ``start(registry:)``.
    func start(registry: CommandRegistry, store: TimelineStore) async throws
    /// Waits for the next batch after `cursor` (nil on first start). Throws
    /// ``FatalPlatformError`` when polling cannot go on.
    func poll(cursor: String?) async throws -> PollBatch
    /// Delivers one queued reply. Throws ``DeliveryError`` to say what to do next.
    func send(_ message: OutboxMessage, reply: Reply) async throws
    /// The send rate allowed to `room`; nil for no limit (the default).
    func sendRateLimit(room: String) -> SendRateLimit?
    /// How many platform messages `reply` becomes (split at size limits); 1 by default.
    func messageCount(for reply: Reply) -> Int
}

extension ChatPlatform {
    public func sendRateLimit(room: String) -> SendRateLimit? { nil }
    public func messageCount(for reply: Reply) -> Int { 1 }
}

extension ChatPlatform {
    public func start(registry: CommandRegistry, store: TimelineStore) async throws {
        try await start(registry: registry)
    }
}
