import Foundation
import Logging
import Synchronization
import TriageChat
import TriageCore

/// Telegram as a ``ChatPlatform``: long-polls `getUpdates`, turns command messages from the
/// configured chats into ``InboundMessage``s, and sends replies as HTML with `sendMessage`.
///
/// The cursor is the next `getUpdates` offset (`update_id + 1`), journaled by the runtime with
/// the batch's commands before they run; updates at or below the last one seen are ignored.
public final class TelegramPlatform: ChatPlatform, Sendable {
    public let name = "telegram"
    let config: TelegramConfig
    let api: TelegramAPI
    let renderer: TelegramHTMLRenderer
    let logger: Logger

    /// What changes while the platform runs, behind one lock.
    struct State {
        var botUsername: String?
        /// Configured chats plus the supergroups they migrated to (recorded through the
        /// ``PlatformHost``, so they are served after a restart too).
        var allowedChats: Set<Int64>
        /// Groups that became supergroups: old chat id → new chat id.
        var migratedTo: [Int64: Int64] = [:]
        /// Where migrations are recorded; set by ``start(host:)``.
        var host: (any PlatformHost)?
        /// Chats that blocked or removed the bot: nothing more is sent there until they write again.
        var blockedChats: Set<Int64> = []
        /// Pieces already delivered of a part Telegram found too long (how many, and the message
        /// ids they became), by outbox key and part.
        var piecesSent: [String: (done: Int, ids: [String])] = [:]
    }
    private let state: Mutex<State>

    /// - Parameters:
    ///   - config: the `telegram:` section.
    ///   - http: the shared libcurl client.
    public init(config: TelegramConfig, http: any HTTPTransport, logger: Logger) {
        self.config = config
        self.api = TelegramAPI(http: http, apiURL: config.apiURL, token: config.token,
                               connectTimeout: config.connectTimeout, requestTimeout: config.requestTimeout,
                               sendTimeout: config.sendTimeout)
        self.renderer = TelegramHTMLRenderer()
        self.state = Mutex(State(botUsername: config.botUsername, allowedChats: config.chats))
        var log = logger
        log[metadataKey: "chat.platform"] = "telegram"
        self.logger = log
    }

    /// The bot's username (from config or `getMe`).
    public var username: String? { state.withLock { s in s.botUsername } }

    // MARK: Start

    /// Loads the group → supergroup migrations recorded earlier, then starts.
    public func start(host: any PlatformHost) async throws {
        let moves = try await host.roomMoves()
        let served: [(Int64, Int64)] = state.withLock { s in
            s.host = host
            for (from, to) in moves {
                if let f = Int64(from), let t = Int64(to) { s.migratedTo[f] = t }
            }
            // Follow chains (a → b → c) from every configured chat.
            var added: [(Int64, Int64)] = []
            var frontier = Array(s.allowedChats)
            while let chat = frontier.popLast() {
                if let to = s.migratedTo[chat], !s.allowedChats.contains(to) {
                    s.allowedChats.insert(to)
                    added.append((chat, to))
                    frontier.append(to)
                }
            }
            return added
        }
        for (from, to) in served {
            logger.info("serving the supergroup a configured group became", metadata: ["chat.room": "\(from)", "chat.new_room": "\(to)"])
        }
        try await start(registry: host.registry)
    }

    /// Notes that `chat` became the supergroup `to`: serves it if `chat` was served and
    /// records the move in the store. Returns true when `chat` is served.
    @discardableResult
    func noteMigration(from chat: Int64, to: Int64) async -> Bool {
        let (allowed, isNew, recorder) = state.withLock { s -> (Bool, Bool, (any PlatformHost)?) in
            guard s.allowedChats.contains(chat) else { return (false, false, nil) }
            let isNew = s.migratedTo[chat] != to
            s.allowedChats.insert(to)
            s.migratedTo[chat] = to
            return (true, isNew, s.host)
        }
        guard allowed, isNew else { return allowed }
        logger.notice("group became a supergroup; serving it and sending its replies there",
                      metadata: ["chat.room": "\(chat)", "chat.new_room": "\(to)"])
        if let host = recorder {
            do {
                try await host.recordRoomMove(from: String(chat), to: String(to))
            } catch {
                logger.error("could not record the supergroup migration; it is served until restart",
                             metadata: ["chat.room": "\(chat)", "chat.new_room": "\(to)", "error": "\(error)"])
            }
        }
        return true
    }

    /// Checks the token with `getMe` (retrying transient failures) and registers the command menu.
    public func start(registry: CommandRegistry) async throws {
        var backoff = Backoff(base: 0.5, cap: 2)
        while true {
            do {
                let me = try await api.getMe()
                let name = state.withLock { s -> String? in
                    if s.botUsername == nil { s.botUsername = me.username }
                    return s.botUsername
                }
                logger.info("telegram bot ready", metadata: ["telegram.bot": "\(name.map { "@" + $0 } ?? "?")",
                                                              "telegram.chats": "\(config.chats.count)"])
                break
            } catch let e as TelegramAPIError {
                try fatalIfUnauthorized(e)
                guard e.isTransient else { throw e }
                let delay = max(backoff.next(), e.retryAfter ?? 0)
                logger.warning("getMe failed; retrying", metadata: ["error": "\(e.description)", "retry.seconds": "\(Self.format(delay))"])
                try await Task.sleep(nanoseconds: TotalNumber.nanoseconds(delay))
            }
        }
        guard config.registerCommands else { return }
        let commands = TelegramCommandMenu.commands(from: registry)
        do {
            try await api.setMyCommands(commands)
            logger.info("command menu registered", metadata: ["telegram.commands": "\(commands.count)"])
        } catch let e as TelegramAPIError {
            try fatalIfUnauthorized(e)
            logger.warning("setMyCommands failed; the command menu is not updated", metadata: ["error": "\(e.description)"])
        }
    }

    func fatalIfUnauthorized(_ e: TelegramAPIError) throws {
        if e.code == .api && (e.status == 401 || e.status == 404) {
            throw FatalPlatformError(platform: name, message: "Telegram rejected the bot token (\(e.status) \(e.message)): check the environment variable \(config.tokenEnv) named by telegram.token_env")
        }
    }

    // MARK: Poll

    public func poll(cursor: String?) async throws -> PollBatch {
        let offset = cursor.flatMap { Int64($0) }
        let batch: TelegramUpdateBatch
        do {
            batch = try await api.getUpdates(offset: offset, timeout: config.pollTimeout)
        } catch let e as TelegramAPIError {
            try fatalIfUnauthorized(e)
            throw e
        }
        var highest = offset.map { $0 == Int64.min ? $0 : $0 - 1 } ?? Int64.min
        // Update ids may start again lower (the Bot API picks a new start after a week without
        // updates; a local Bot API server has ids of its own). When every update of a batch is
        // below the stored offset, the server is serving its queue from the head: re-synchronise
        // on it instead of dropping everything as a duplicate (and polling again at once, forever).
        let ids = batch.elements.compactMap(\.updateID)
        if let offset, let lowest = ids.min(), ids.allSatisfy({ $0 < offset }) {
            logger.warning("Telegram update ids restarted below the stored offset; re-synchronising the cursor",
                           metadata: ["telegram.offset": "\(offset)", "telegram.first_update": "\(lowest)",
                                      "telegram.updates": "\(ids.count)"])
            highest = lowest == Int64.min ? lowest : lowest - 1
        }
        var items: [PollItem] = []
        for element in batch.elements {
            switch element {
            case .malformed(let id, let problem):
                logger.error("malformed update skipped", metadata: ["telegram.update": "\(id.map(String.init) ?? "?")", "error": "\(problem)"])
                if let id, id > highest {
                    highest = id
                    items.append(PollItem(message: nil, cursor: Self.nextOffset(after: id)))
                }
            case .update(let update):
                guard update.update_id > highest else {
                    logger.info("duplicate update ignored", metadata: ["telegram.update": "\(update.update_id)"])
                    continue
                }
                highest = update.update_id
                if let message = update.message {
                    // Service messages of an upgrade: `migrate_to_chat_id` in the old group,
                    // `migrate_from_chat_id` in the new supergroup.
                    if let to = message.migrate_to_chat_id {
                        await noteMigration(from: message.chat.id, to: to)
                    } else if let from = message.migrate_from_chat_id {
                        await noteMigration(from: from, to: message.chat.id)
                    }
                }
                let message = inbound(update)
                if message == nil, let query = update.callback_query, query.data != nil {
                    await refuse(query)
                }
                items.append(PollItem(message: message, cursor: Self.nextOffset(after: update.update_id)))
            }
        }
        if items.isEmpty && !batch.elements.isEmpty {
            // Nothing in the batch moved the cursor (updates without an id): the same batch
            // comes back on the next call, so never ask again at once.
            logger.error("getUpdates returned updates that cannot be confirmed; polling again in 1 s",
                         metadata: ["telegram.updates": "\(batch.elements.count)"])
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        return PollBatch(items: items, cursor: nil)
    }

    /// The message to handle in `update`, or nil when it is not a command for us from a served chat.
    func inbound(_ update: TelegramUpdate) -> InboundMessage? {
        if let query = update.callback_query { return inbound(query) }
        guard let message = update.message else { return nil }
        let chat = message.chat.id
        if message.migrate_to_chat_id != nil || message.migrate_from_chat_id != nil { return nil }
        guard let text = message.text, let from = message.from, from.is_bot != true else { return nil }
        guard let command = TelegramCommandText.find(text: text, entities: message.entities ?? []) else { return nil }
        let (allowed, ourName) = state.withLock { s -> (Bool, String?) in
            let ok = s.allowedChats.contains(chat)
            if ok { s.blockedChats.remove(chat) }
            return (ok, s.botUsername)
        }
        guard allowed else {
            logger.notice("command from a chat not in telegram.chats ignored",
                          metadata: ["chat.room": "\(chat)", "chat.title": "\(message.chat.title ?? message.chat.type)", "chat.sender": "\(from.id)"])
            return nil
        }
        if let mention = command.mention, let ourName, mention.lowercased() != ourName.lowercased() {
            logger.debug("command for another bot ignored", metadata: ["chat.room": "\(chat)", "telegram.mention": "\(mention)"])
            return nil
        }
        guard let role = config.access.role(of: String(from.id)) else {
            logger.notice("command from a user not in telegram.users ignored (no default role)",
                          metadata: ["chat.room": "\(chat)", "chat.sender": "\(from.id)"])
            return nil
        }
        return InboundMessage(platform: name, room: String(chat), sender: String(from.id), senderName: from.displayName,
                              text: command.line, messageID: "\(chat):\(message.message_id)", role: role,
                              replyToText: message.reply_to_message?.text)
    }

    /// A tap on one of our buttons, from a served chat, by someone with a role. The role is
    /// the tapping person's (`from.id`), never anything about who could see the button.
    func inbound(_ query: TelegramUpdate.CallbackQuery) -> InboundMessage? {
        guard let data = query.data, let message = query.message, query.from.is_bot != true else { return nil }
        let chat = message.chat.id
        let allowed = state.withLock { s in s.allowedChats.contains(chat) }
        guard allowed else {
            logger.notice("button tap from a chat not in telegram.chats ignored", metadata: ["chat.room": "\(chat)", "chat.sender": "\(query.from.id)"])
            return nil
        }
        // Someone nobody listed still gets a role-based refusal from the dispatcher when a
        // default role exists; with none, ``poll(cursor:)`` answers the tap and it goes no further.
        guard let role = config.access.role(of: String(query.from.id)) else {
            logger.notice("button tap from a user not in telegram.users refused (no default role)",
                          metadata: ["chat.room": "\(chat)", "chat.sender": "\(query.from.id)"])
            return nil
        }
        let tap = ButtonTap(data: data, callbackID: query.id, messageID: "\(chat):\(message.message_id)")
        return InboundMessage(platform: name, room: String(chat), sender: String(query.from.id), senderName: query.from.displayName,
                              text: "", messageID: "\(chat):cb\(query.id)", role: role, tap: tap)
    }

    /// Answers a tap that goes no further (a person without a role, a chat not served): the
    /// client's spinner stops and they are told why.
    func refuse(_ query: TelegramUpdate.CallbackQuery) async {
        do {
            try await api.answerCallbackQuery(id: query.id, text: "Triage does not take taps from you here.", alert: true)
        } catch {
            logger.info("could not answer a refused tap", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Buttons and edits

    public func answer(_ tap: ButtonTap, with answer: TapAnswer) async throws {
        guard let id = tap.callbackID else { return }
        try await api.answerCallbackQuery(id: id, text: answer.text, alert: answer.alert)
    }

    /// Edits one of our messages (`chat:message_id`) to `reply`, rendered as one part: an
    /// outcome is short. Its keyboard becomes the reply's buttons (none: removed).
    public func edit(room: String, messageID: String, reply: Reply) async throws {
        guard let chat = Int64(room), let id = messageID.split(separator: ":").last.flatMap({ Int64($0) }) else {
            throw DeliveryError(.drop, "not a Telegram message id: \(messageID)")
        }
        let html = renderer.parts(reply).first?.text ?? TelegramHTMLRenderer.Part.placeholder.text
        do {
            do {
                try await api.editMessageText(chatID: chat, messageID: id, html: html, keyboard: InlineKeyboard(reply.buttons))
            } catch let e as TelegramAPIError where e.code == .api && e.status == 400 && e.message.contains("can't parse entities") {
                let plain = renderer.parts(reply, plain: true).first?.text ?? TelegramHTMLRenderer.Part.placeholder.text
                try await api.editMessageText(chatID: chat, messageID: id, html: plain, plain: true, keyboard: InlineKeyboard(reply.buttons))
            }
        } catch let e as TelegramAPIError {
            // "message to edit not found", "message can't be edited" (400): drop; 429 and 5xx: retry.
            throw deliveryError(e, chat: chat, attempts: 0)
        }
    }

    /// A reply of one message can replace an earlier one; a longer one is sent as new messages.
    public func canEdit(into reply: Reply) -> Bool {
        (reply.attachments ?? []).isEmpty && renderer.parts(reply).count == 1
    }

    // MARK: Send

    public func sendRateLimit(room: String) -> SendRateLimit? {
        let group = (Int64(room) ?? 0) < 0
        return SendRateLimit(interval: config.chatInterval, perMinute: group ? config.groupPerMinute : nil,
                             globalPerSecond: config.globalPerSecond)
    }

    /// A reply with files becomes one document per file; otherwise its HTML parts.
    public func messageCount(for reply: Reply) -> Int {
        if let files = reply.attachments, !files.isEmpty { return files.count }
        return max(1, renderer.parts(reply).count)
    }

    /// Sends part `part` of the reply as HTML, quoting the command in the first part only.
    /// - Returns: `<chat>:<message_id>` of each Telegram message the part became.
    public func send(_ message: OutgoingMessage, part: Int) async throws -> [String] {
        guard let chat = Int64(message.room) else {
            throw DeliveryError(.drop, "not a Telegram chat id: \(message.room)")
        }
        let (blocked, moved) = state.withLock { s in (s.blockedChats.contains(chat), s.migratedTo[chat]) }
        if let moved {
            // Known from an earlier 400 or service message: no need to be told again.
            throw DeliveryError(.moved(to: String(moved)), "chat \(chat) became the supergroup \(moved)")
        }
        if blocked {
            throw DeliveryError(.drop, "the bot was blocked or removed from chat \(chat); not sending")
        }
        if let files = message.reply.attachments, !files.isEmpty {
            guard files.indices.contains(part) else { return [] }
            let replyTo = part == 0 ? message.replyTo.flatMap { $0.split(separator: ":").last }.flatMap { Int64($0) } : nil
            return try await sendDocument(files[part], caption: part == 0 ? message.reply.caption() : nil, chat: chat,
                                          replyTo: replyTo, attempts: message.attempts)
        }
        let parts = renderer.parts(message.reply)
        let chosen: TelegramHTMLRenderer.Part
        if parts.isEmpty {
            chosen = .placeholder
        } else if parts.indices.contains(part) {
            chosen = parts[part]
        } else {
            return []   // the reply has fewer parts than asked for: nothing left to send
        }
        let replyTo = part == 0 ? message.replyTo.flatMap { $0.split(separator: ":").last }.flatMap { Int64($0) } : nil
        // The reply's buttons go under its last message.
        let keyboard = part >= parts.count - 1 ? InlineKeyboard(message.reply.buttons) : nil
        return try await sendOne(chosen, progressKey: "\(message.key)#\(part)", chat: chat, replyTo: replyTo,
                                 attempts: message.attempts, keyboard: keyboard)
    }

    /// Sends one of a reply's files as a document (instead of the reply's text, which names
    /// paths on the bot's server), the first with the reply's summary as its caption.
    func sendDocument(_ file: ReplyAttachment, caption: String?, chat: Int64, replyTo: Int64?, attempts: Int) async throws -> [String] {
        do {
            let sent = try await api.sendDocument(chatID: chat, fileName: file.fileName, mimeType: file.mimeType, data: Data(file.content.utf8),
                                                  caption: caption?.htmlEscaped, replyTo: replyTo)
            return ["\(chat):\(sent.message_id)"]
        } catch let e as TelegramAPIError {
            if e.code == .api, e.status == 400, let to = e.migrateToChatID { await noteMigration(from: chat, to: to) }
            throw deliveryError(e, chat: chat, attempts: attempts)
        }
    }

    /// Sends one part; when Telegram finds it too long (its count differs from ours), cuts it
    /// smaller and sends the pieces, never dropping it; when it refuses the HTML, sends the
    /// part's text without markup. Pieces already delivered are not sent again when a later
    /// piece must wait (kept in memory: the outbox tracks whole parts in the store).
    /// - Parameter keyboard: buttons under the (last piece of the) part.
    func sendOne(_ part: TelegramHTMLRenderer.Part, progressKey: String, chat: Int64, replyTo: Int64?,
                 attempts: Int, keyboard: InlineKeyboard? = nil) async throws -> [String] {
        do {
            let sent = try await api.sendMessage(chatID: chat, html: part.text, replyTo: replyTo, plain: !part.escape, keyboard: keyboard)
            return ["\(chat):\(sent.message_id)"]
        } catch let e as TelegramAPIError {
            if e.code == .api, e.status == 400, e.message.contains("message is too long"), let pieces = renderer.resplit(part) {
                logger.warning("Telegram found a reply part too long; sending it in smaller pieces",
                               metadata: ["chat.room": "\(chat)", "telegram.units": "\(part.length)", "telegram.pieces": "\(pieces.count)"])
                var (done, ids) = state.withLock { s in s.piecesSent[progressKey] ?? (0, []) }
                for index in done..<pieces.count {
                    ids += try await sendOne(pieces[index], progressKey: progressKey + ".\(index)", chat: chat,
                                             replyTo: index == 0 ? replyTo : nil, attempts: attempts,
                                             keyboard: index == pieces.count - 1 ? keyboard : nil)
                    done = index + 1
                    let progress = (done, ids)
                    state.withLock { s in s.piecesSent[progressKey] = progress }
                }
                state.withLock { s in _ = s.piecesSent.removeValue(forKey: progressKey) }
                return ids
            }
            if part.escape, e.code == .api, e.status == 400, e.message.contains("can't parse entities") {
                logger.error("Telegram rejected the reply's HTML; sending it as plain text", metadata: ["chat.room": "\(chat)", "error": "\(e.message)"])
                return try await sendOne(renderer.plain(part), progressKey: progressKey + "#plain", chat: chat,
                                         replyTo: replyTo, attempts: attempts, keyboard: keyboard)
            }
            if e.code == .api, e.status == 400, let to = e.migrateToChatID {
                await noteMigration(from: chat, to: to)
            }
            throw deliveryError(e, chat: chat, attempts: attempts)
        }
    }

    /// What the outbox should do after a failed `sendMessage`.
    func deliveryError(_ e: TelegramAPIError, chat: Int64, attempts: Int) -> DeliveryError {
        if e.code != .api || e.status >= 500 {
            let d = min(30, pow(2, Double(min(attempts, 5))))
            return DeliveryError(.retry(after: Double.random(in: (d / 2)...d)), e.description)
        }
        switch e.status {
        case 429:
            return DeliveryError(.retry(after: max(1, e.retryAfter ?? 1)), e.description)
        case 400 where e.migrateToChatID != nil:
            return DeliveryError(.moved(to: e.migrateToChatID.map { String($0) } ?? ""), e.description)
        case 403:
            state.withLock { s in _ = s.blockedChats.insert(chat) }
            logger.warning("the bot cannot write to this chat (blocked or removed); replies to it are dropped",
                           metadata: ["chat.room": "\(chat)", "error": "\(e.message)"])
            return DeliveryError(.drop, e.description)
        case 401:
            logger.critical("Telegram rejected the bot token; check \(config.tokenEnv) (telegram.token_env)")
            return DeliveryError(.retry(after: 30), e.description)
        default:
            return DeliveryError(.drop, e.description)
        }
    }

    static func format(_ d: Double) -> String { String(format: "%.1f", d) }

    /// The `getUpdates` offset that confirms `id` (saturating: an id of Int64.max cannot trap).
    static func nextOffset(after id: Int64) -> String {
        String(id == Int64.max ? id : id + 1)
    }

}
