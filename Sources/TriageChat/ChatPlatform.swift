import Foundation
import TriageCore

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

/// A reply on its way to a room: what a ``ChatSink`` delivers.
public struct OutgoingMessage: Sendable {
    public var room: String
    /// The platform message id this replies to.
    public var replyTo: String?
    /// Unique per reply and stable across restarts (Matrix uses it for its txnId).
    public var key: String
    public var reply: Reply
    /// Earlier attempts that failed (for backoff).
    public var attempts: Int

    public init(room: String, replyTo: String?, key: String, reply: Reply, attempts: Int = 0) {
        self.room = room
        self.replyTo = replyTo
        self.key = key
        self.reply = reply
        self.attempts = attempts
    }
}

/// Where chat messages come from: a long-poll of a platform's HTTP API.
public protocol ChatSource: Sendable {
    /// `telegram`, `matrix`: the key for cursors, outbox and processed messages.
    var name: String { get }
    /// Called once before polling (log in, `setMyCommands`, …), with what the platform may
    /// keep across restarts and the commands it serves.
    func start(host: any PlatformHost) async throws
    /// Waits for the next batch after `cursor` (nil on first start). Throws
    /// ``FatalPlatformError`` when polling cannot go on.
    func poll(cursor: String?) async throws -> PollBatch
}

/// Where replies go: a platform's send API, or the terminal.
///
/// A reply becomes one or more platform messages (``messageCount(for:)``, split by the
/// platform's own measure). The outbox sends them one at a time with ``send(_:part:)`` and
/// records each part ("sending" before the call, "sent" with its platform message ids right
/// after), so a restart resumes at the first part not sent.
public protocol ChatSink: Sendable {
    /// The platform's name, as in ``ChatSource/name``.
    var name: String { get }
    /// Delivers part `part` (0-based, below ``messageCount(for:)``) of `message`. Throws
    /// ``DeliveryError`` to say what to do next.
    /// - Returns: the platform message ids the part became, in order: one, or several when the
    ///   platform refused it as too long and it was cut smaller; none where messages have no ids.
    func send(_ message: OutgoingMessage, part: Int) async throws -> [String]
    /// The send rate allowed to `room`; nil for no limit (the default).
    func sendRateLimit(room: String) -> SendRateLimit?
    /// How many platform messages `reply` becomes (split at size limits); 1 by default.
    func messageCount(for reply: Reply) -> Int
    /// Answers a tap on a button at once (Telegram `answerCallbackQuery`: the client shows a
    /// spinner until then). Platforms without tap answers do nothing (the default).
    func answer(_ tap: ButtonTap, with answer: TapAnswer) async throws
    /// Replaces the bot's message `messageID` in `room` with `reply` (its buttons included;
    /// none removes them). An edit that changes nothing counts as success; a message that is
    /// gone or cannot be edited throws ``DeliveryError`` with `.drop`. The default does
    /// nothing (platforms that cannot edit).
    func edit(room: String, messageID: String, reply: Reply) async throws
    /// Whether an earlier message can be edited into `reply`'s first part, the outbox then
    /// sending its other parts, if any, as replies (Matrix); false sends the whole reply as
    /// new messages (Telegram, for a reply of more than one message). False by default.
    func canEdit(into reply: Reply) -> Bool
}

extension ChatSink {
    public func sendRateLimit(room: String) -> SendRateLimit? { nil }
    public func messageCount(for reply: Reply) -> Int { 1 }
    public func answer(_ tap: ButtonTap, with answer: TapAnswer) async throws {}
    public func edit(room: String, messageID: String, reply: Reply) async throws {}
    public func canEdit(into reply: Reply) -> Bool { false }

    /// Delivers every part of `message` in order (for messages that bypass the outbox).
    /// - Returns: the platform message ids of all parts.
    @discardableResult
    public func sendAll(_ message: OutgoingMessage) async throws -> [String] {
        var ids: [String] = []
        for part in 0..<max(1, messageCount(for: message.reply)) {
            ids += try await send(message, part: part)
        }
        return ids
    }
}

/// A chat platform: both a source of commands and a sink for replies.
public typealias ChatPlatform = ChatSource & ChatSink

/// What the runtime offers a platform: the commands it serves and a small store for state
/// that must survive a restart. Platforms never see the timeline store itself.
public protocol PlatformHost: Sendable {
    /// Every declared command (for command menus).
    var registry: CommandRegistry { get }
    /// A value the platform stored under `key` (its device id, …), scoped to the platform.
    func state(_ key: String) async throws -> String?
    /// Stores `value` under `key`, scoped to the platform.
    func setState(_ key: String, _ value: String) async throws
    /// Queues a message of the platform's own (a notice) in the outbox: sent with the same
    /// pacing, retries and restart safety as replies. A second message with the same key is ignored.
    func queue(_ reply: Reply, room: String, key: String) async throws
    /// Whether the message with this platform id was already handled (a replayed sync).
    func wasHandled(messageID: String) async throws -> Bool
    /// Every room that moved for good (old room → new room), e.g. Telegram supergroups.
    func roomMoves() async throws -> [String: String]
    /// Records that `room` moved to `newRoom`: queued replies and the active incident follow.
    func recordRoomMove(from room: String, to newRoom: String) async throws
}
