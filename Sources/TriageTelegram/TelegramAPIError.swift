import TriageChat
import TriageCore

/// A Bot API call that failed: Telegram's `error_code` and `description` (or a transport
/// problem). The description never contains the token.
public struct TelegramAPIError: PresentableError, RetryAfterHinting {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// `ok: false` from the server; see ``status``.
        public static let api = Code(raw: "api")
        /// No response (connection refused, timeout, TLS).
        public static let network = Code(raw: "network")
        /// The body was not the JSON the Bot API sends.
        public static let malformedResponse = Code(raw: "malformed response")
        public var description: String { raw }
    }

    public var code: Code
    /// The method called (`getUpdates`).
    public var method: String
    /// The HTTP status / `error_code` (0 without a response).
    public var status: Int
    public var message: String
    /// `parameters.retry_after` (429).
    public var retryAfterSeconds: Double?
    /// `parameters.migrate_to_chat_id` (400 after a group became a supergroup).
    public var migrateToChatID: Int64?

    public init(_ code: Code, method: String, status: Int = 0, message: String,
                retryAfter: Double? = nil, migrateToChatID: Int64? = nil) {
        self.code = code
        self.method = method
        self.status = status
        self.message = message
        // From the network: NaN, negative or huge values become a sane wait (at most an hour).
        self.retryAfterSeconds = retryAfter.map { $0.isFinite ? min(max($0, 0), 3600) : 1 }
        self.migrateToChatID = migrateToChatID
    }

    /// 400 "message is not modified": an edit to what the message already is (a success).
    public var isNotModified: Bool {
        code == .api && status == 400 && message.contains("message is not modified")
    }

    /// Worth trying again later: 429, 5xx, network and malformed responses (proxies, outages).
    public var isTransient: Bool {
        code != .api || status == 429 || status >= 500
    }

    /// `retry_after` when given; at least 2 s after a 409 so two pollers do not fight.
    public var retryAfter: Double? { retryAfterSeconds ?? (code == .api && status == 409 ? 2 : nil) }

    public var description: String {
        switch (code, status) {
        case (.api, 409):
            return "Telegram \(method): 409 \(message) — another process is polling with this bot token, or a webhook is set (remove it with deleteWebhook); retrying with backoff"
        case (.api, 401):
            return "Telegram \(method): 401 \(message) — the bot token is wrong or revoked"
        case (.api, _):
            return "Telegram \(method): \(status) \(message)"
        default:
            return "Telegram \(method): \(code): \(message)"
        }
    }
}
