import Foundation
import Logging
import TriageCore

/// The Bot API methods Triage calls, over ``HTTPClient``. Each call posts JSON to
/// `<api_url>/bot<token>/<method>` and unwraps `{"ok":true,"result":…}`; anything else
/// becomes a ``TelegramAPIError``.
public struct TelegramAPI: Sendable {
    let http: any HTTPTransport
    let base: String
    let token: String
    public var connectTimeout: Double
    public var requestTimeout: Double
    /// Seconds for `sendMessage` (see ``TelegramConfig/sendTimeout``).
    public var sendTimeout: Double

    /// - Parameters:
    ///   - http: the shared libcurl client.
    ///   - apiURL: `https://api.telegram.org` or a self-hosted server.
    ///   - token: the bot token; it appears only in request URLs, never in errors or logs.
    public init(http: any HTTPTransport, apiURL: String, token: String, connectTimeout: Double = 10, requestTimeout: Double = 30,
                sendTimeout: Double = 75) {
        self.http = http
        self.base = apiURL
        self.token = token
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.sendTimeout = sendTimeout
    }

    /// Seconds past the long-poll timeout after which a `getUpdates` that has not answered is
    /// taken as hung (the server answers at the timeout; this covers latency only).
    public static let pollGrace: Double = 3

    /// The bot's own account.
    public struct BotUser: Decodable, Sendable {
        public var id: Int64
        public var username: String?
        public var first_name: String?
    }

    /// What `sendMessage` and `editMessageText` return (only what Triage uses).
    public struct SentMessage: Decodable, Sendable {
        public var message_id: Int64
    }

    /// A command for the client's menu (`setMyCommands`).
    public struct BotCommand: Codable, Sendable, Equatable {
        public var command: String
        public var description: String
        public init(command: String, description: String) {
            self.command = command
            self.description = description
        }
    }

    public func getMe() async throws -> BotUser {
        try await call("getMe", body: [String: String](), as: BotUser.self)
    }

    /// Long-polls for updates. Returns the raw `result` array: updates are decoded one by one
    /// by ``TelegramUpdateBatch`` so that one malformed update cannot hide the others.
    public func getUpdates(offset: Int64?, timeout: Int, limit: Int = 100) async throws -> TelegramUpdateBatch {
        struct Body: Encodable {
            var offset: Int64?
            var timeout: Int
            var limit: Int
            var allowed_updates = ["message"]
        }
        let data = try await raw("getUpdates", body: Body(offset: offset, timeout: timeout, limit: limit),
                                 timeout: Double(timeout) + Self.pollGrace)
        do {
            return try JSONDecoder().decode(Envelope<TelegramUpdateBatch>.self, from: data).result ?? TelegramUpdateBatch(elements: [])
        } catch {
            throw TelegramAPIError(.malformedResponse, method: "getUpdates", status: 200,
                                   message: "the result is not a list of updates")
        }
    }

    /// Sends one HTML message, quoting `replyTo` when given.
    public func sendMessage(chatID: Int64, html: String, replyTo: Int64?, plain: Bool = false) async throws -> SentMessage {
        struct ReplyParameters: Encodable {
            var message_id: Int64
            var allow_sending_without_reply = true
        }
        struct Body: Encodable {
            var chat_id: Int64
            var text: String
            var parse_mode: String?
            var reply_parameters: ReplyParameters?
            var link_preview_options = ["is_disabled": true]
        }
        return try await call("sendMessage", body: Body(chat_id: chatID, text: html, parse_mode: plain ? nil : "HTML",
                                                        reply_parameters: replyTo.map { ReplyParameters(message_id: $0) }),
                              as: SentMessage.self, timeout: sendTimeout)
    }

    /// Replaces a message's text. "message is not modified" (same text) counts as success.
    public func editMessageText(chatID: Int64, messageID: Int64, html: String) async throws {
        struct Body: Encodable {
            var chat_id: Int64
            var message_id: Int64
            var text: String
            var parse_mode = "HTML"
        }
        do {
            _ = try await raw("editMessageText", body: Body(chat_id: chatID, message_id: messageID, text: html),
                              timeout: requestTimeout)
        } catch let e as TelegramAPIError where e.status == 400 && e.message.contains("message is not modified") {
            return
        }
    }

    /// Registers the command menu.
    public func setMyCommands(_ commands: [BotCommand]) async throws {
        struct Body: Encodable { var commands: [BotCommand] }
        _ = try await raw("setMyCommands", body: Body(commands: commands), timeout: requestTimeout)
    }

    // MARK: Transport

    struct Envelope<T: Decodable>: Decodable {
        var ok: Bool
        var result: T?
    }

    struct ErrorEnvelope: Decodable {
        struct Parameters: Decodable {
            var retry_after: Double?
            var migrate_to_chat_id: Int64?
        }
        var ok: Bool
        var error_code: Int?
        var description: String?
        var parameters: Parameters?
    }

    func call<B: Encodable, T: Decodable>(_ method: String, body: B, as: T.Type, timeout: Double? = nil) async throws -> T {
        let data = try await raw(method, body: body, timeout: timeout ?? requestTimeout)
        guard let value = try? JSONDecoder().decode(Envelope<T>.self, from: data).result else {
            throw TelegramAPIError(.malformedResponse, method: method, status: 200, message: "unexpected result")
        }
        return value
    }

    /// Posts `body` as JSON; returns the body of an `ok: true` response.
    func raw<B: Encodable>(_ method: String, body: B, timeout: Double) async throws -> Data {
        let request = HTTPRequest(method: "POST", url: "\(base)/bot\(token)/\(method)",
                                  headers: [("Content-Type", "application/json")],
                                  body: try JSONEncoder().encode(body), timeout: timeout, connectTimeout: connectTimeout)
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch let e as HTTPError where e.code != .cancelled {
            throw TelegramAPIError(.network, method: method, message: e.description)
        }
        let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: response.body)
        if response.status == 200, envelope?.ok == true {
            return response.body
        }
        guard let envelope, envelope.ok == false, let code = envelope.error_code else {
            throw TelegramAPIError(.malformedResponse, method: method, status: response.status,
                                   message: "HTTP \(response.status) without a Bot API body")
        }
        var retryAfter = envelope.parameters?.retry_after
        if code == 429, retryAfter == nil, let header = response.headers["retry-after"] { retryAfter = Double(header) }
        throw TelegramAPIError(.api, method: method, status: code, message: envelope.description ?? "error \(code)",
                               retryAfter: retryAfter, migrateToChatID: envelope.parameters?.migrate_to_chat_id)
    }
}
