import Foundation
import Logging
import Synchronization
import TriageChat
import TriageCore

/// Matrix as a ``ChatPlatform``: long-polls `/sync`, joins invites to allowed rooms, and
/// sends replies as `m.notice` events with HTML, idempotently (txnId from the command).
public final class MatrixPlatform: ChatPlatform, Sendable {
    public let name = "matrix"
    public let config: MatrixConfig
    let client: MatrixClient
    let reader: MatrixSyncReader
    let splitter = MatrixReplySplitter()
    let logger: Logger
    let filter: String
    struct State {
        /// Invites already turned down (logged once each).
        var declined = Set<String>()
        /// Missed commands too old to run, by room, until the room is told (see ``poll(cursor:)``).
        var pendingTooOld: [String: [InboundMessage]] = [:]
        /// What the runtime offers (was a missed command already handled?); set by ``connect(host:)``.
        var host: (any PlatformHost)?
    }
    private let state = Mutex(State())

    /// The platform-state key where the device id is kept across restarts.
    public static let deviceKey = "device"

    /// - Parameters:
    ///   - http: the process's one HTTP client.
    public init(config: MatrixConfig, http: any HTTPTransport, logger: Logger) {
        self.config = config
        self.logger = logger
        client = MatrixClient(http: http, homeserver: config.homeserver, userID: config.userID, password: config.password,
                              accessToken: config.accessToken, deviceName: config.deviceName, logger: logger)
        reader = MatrixSyncReader(config: config)
        filter = reader.filterJSON()
    }

    public func start(host: any PlatformHost) async throws {
        try await connect(host: host)
    }

    /// Logs in (or checks the token) with the stored device id, retrying while the
    /// homeserver is unreachable; stores the device id.
    func connect(host: (any PlatformHost)?) async throws {
        state.withLock { $0.host = host }
        var backoff = Backoff(base: 0.5, cap: 2)
        while true {
            do {
                let stored = try await host?.state(Self.deviceKey)
                let device: String?
                if config.accessToken != nil {
                    let who = try await client.whoami()
                    if who.userID != config.userID {
                        throw FatalPlatformError(platform: name, message: "the access token belongs to \(who.userID), not \(config.userID)")
                    }
                    device = who.deviceID
                } else {
                    device = try await client.login(deviceID: stored ?? Self.newDeviceID())
                }
                if let device, device != stored, let host {
                    try await host.setState(Self.deviceKey, device)
                }
                logger.info("matrix connected", metadata: ["matrix.user": "\(config.userID)", "matrix.device": "\(device ?? "?")",
                                                           "matrix.rooms": "\(config.rooms.count)"])
                return
            } catch let fatal as FatalPlatformError {
                throw fatal
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let delay = (error as? MatrixError)?.retryAfter ?? backoff.next()
                logger.warning("matrix login failed; retrying", metadata: ["error": "\(error)", "retry.seconds": "\(String(format: "%.1f", delay))"])
                try await Task.sleep(nanoseconds: TotalNumber.nanoseconds(delay))
            }
        }
    }


    static func newDeviceID() -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return "TRIAGE" + String((0..<10).map { _ in letters.randomElement()! })
    }

    // MARK: Polling

    public func poll(cursor: String?) async throws -> PollBatch {
        let snapshot = cursor == nil
        var json: MatrixSync
        while true {
            do {
                json = try await client.sync(since: cursor, timeout: snapshot ? 0 : config.syncTimeout * 1000, filter: filter)
                break
            } catch let error as MatrixError where error.isRateLimited {
                // Never a hot loop, even when the server says retry_after_ms: 0.
                let wait = max(0.5, error.retryAfter ?? 1)
                logger.warning("matrix sync rate-limited", metadata: ["retry.seconds": "\(wait)"])
                try await Task.sleep(nanoseconds: TotalNumber.nanoseconds(wait))
            }
        }
        var backfill: [String: [MatrixEvent]] = [:]
        var tooOld: [String: [InboundMessage]] = [:]
        let now = Date()
        if !snapshot, let since = cursor {
            for gap in reader.gaps(json) {
                let (recent, skipped) = try await fillGap(gap, since: since, now: now)
                backfill[gap.room] = recent
                if !skipped.isEmpty { tooOld[gap.room] = skipped }
            }
        }
        var result = try reader.read(json, snapshot: snapshot, now: now, backfill: backfill)
        result.messages = try await resolveReactions(result.messages)
        // Commands sent while Triage was away are run only while they are recent enough.
        let cutoff = now.addingTimeInterval(-Double(config.missedMaxAge))
        let late = result.messages.filter { $0.receivedAt < cutoff }
        if !late.isEmpty {
            result.messages.removeAll { $0.receivedAt < cutoff }
            for m in late where m.tap == nil { tooOld[m.room, default: []].append(m) }
        }
        // A replayed sync (after a crash) may hold commands that did run while still recent.
        if !tooOld.isEmpty, let host = state.withLock({ $0.host }) {
            var still: [String: [InboundMessage]] = [:]
            for (room, list) in tooOld {
                var left: [InboundMessage] = []
                for m in list where try await !host.wasHandled(messageID: m.messageID) { left.append(m) }
                if !left.isEmpty { still[room] = left }
            }
            tooOld = still
        }
        // One notice per room for a backlog that may come in several syncs: sent by the first
        // poll that brings no more too-old commands for the room.
        let found = tooOld
        let due: [(String, [InboundMessage])] = state.withLock { s in
            let ready = s.pendingTooOld.filter { found[$0.key] == nil }
            for room in ready.keys { s.pendingTooOld[room] = nil }
            for (room, skipped) in found { s.pendingTooOld[room, default: []] += skipped }
            return ready.sorted { $0.key < $1.key }
        }
        for (room, skipped) in due {
            await noticeSkipped(skipped, room: room)
        }
        for item in result.skipped {
            logger.debug("matrix event ignored", metadata: ["chat.room": "\(item.room)", "chat.message": "\(item.eventID)",
                                                            "chat.sender": "\(item.sender)", "reason": "\(item.reason)"])
            if item.reason == "room not in config" || item.reason == "sender has no role" {
                logger.info("matrix message not served", metadata: ["chat.room": "\(item.room)", "chat.sender": "\(item.sender)", "reason": "\(item.reason)"])
            }
        }
        await handleInvites(result.invites)
        if snapshot {
            logger.info("matrix first sync: earlier messages are not run", metadata: ["matrix.next_batch": "\(result.nextBatch)"])
        }
        // next_batch goes with the last handling; a crash mid-batch replays the batch and the
        // dispatcher skips the events it already handled (by event id).
        var items = result.messages.map { PollItem(message: $0, cursor: nil) }
        if !items.isEmpty { items[items.count - 1].cursor = result.nextBatch }
        return PollBatch(items: items, cursor: result.nextBatch)
    }

    /// Most history pages (of 100 events) read back to fill one gap.
    static let gapPages = 50

    /// The events missing before a `limited` timeline, oldest first, and the commands among
    /// them too old to run: paged back from its `prev_batch` to the `since` of the sync (the
    /// last handled position), so each missed command runs once, in order (the dispatcher
    /// drops any it already handled by event id). Reading stops at `missed_max_age`.
    func fillGap(_ gap: MatrixSyncReader.Gap, since: String, now: Date) async throws -> (recent: [MatrixEvent], tooOld: [InboundMessage]) {
        let cutoff = TotalNumber.clampedInt64((now.timeIntervalSince1970 - Double(config.missedMaxAge)) * 1000)
        var newestFirst: [MatrixEvent] = []
        var from = gap.prevBatch
        var complete = false
        for _ in 0..<Self.gapPages {
            let page = try await client.messages(roomID: gap.room, from: from, to: since, limit: 100)
            let chunk = page.chunk
            newestFirst += chunk
            if chunk.contains(where: { $0.originServerTS < cutoff }) { complete = true; break }
            guard !chunk.isEmpty, let end = page.end, end != from else { complete = true; break }
            from = end
        }
        let history = Array(newestFirst.reversed())
        let recent = history.filter { $0.originServerTS >= cutoff }
        let skipped = reader.messages(in: history.filter { $0.originServerTS < cutoff }, room: gap.room, now: now)
        logger.notice("matrix sync was limited; missed messages read from the room's history",
                      metadata: ["chat.room": "\(gap.room)", "matrix.events": "\(history.count)",
                                 "matrix.commands": "\(reader.messages(in: recent, room: gap.room, now: now).count)",
                                 "matrix.too_old": "\(skipped.count)"])
        if !complete {
            logger.warning("matrix history read stopped after \(Self.gapPages) pages; older missed messages are not run",
                           metadata: ["chat.room": "\(gap.room)"])
        }
        return (recent, skipped)
    }

    /// One room notice for commands that were sent while Triage was away and are too old to
    /// run, queued in the outbox through the host (so it waits for rate limits and survives a
    /// restart). Its key comes from the oldest of them, so a replayed sync does not post it twice.
    func noticeSkipped(_ skipped: [InboundMessage], room: String) async {
        guard let oldest = skipped.first else { return }
        let age = DurationFormatter.format(seconds: Double(config.missedMaxAge))
        let listed = skipped.suffix(5).map { "\($0.senderName): \($0.text.prefix(80))" }
        let count = skipped.count == 1 ? "1 command" : "\(skipped.count) commands"
        let text = "Triage was not running: \(count) sent here more than \(age) ago were not run (too old to run now). "
            + "Send again what is still needed. Last of them:\n" + listed.joined(separator: "\n")
        let key = "too-old:\(room):\(oldest.messageID)"
        do {
            if let host = state.withLock({ $0.host }) {
                try await host.queue(Reply(blocks: [.text(text)]), room: room, key: key)
            } else {
                let content = MatrixEventContent(msgtype: "m.notice", body: text)
                try await client.send(roomID: room, txnID: MatrixTransactionID.make(key: key, part: 0), content: content)
            }
            logger.notice("matrix missed commands too old to run; the room was told",
                          metadata: ["chat.room": "\(room)", "matrix.skipped": "\(skipped.count)"])
        } catch {
            logger.error("could not tell the room about skipped old commands",
                         metadata: ["chat.room": "\(room)", "error": "\(error)"])
        }
    }

    func handleInvites(_ rooms: [String]) async {
        for room in rooms {
            if config.rooms.contains(room) {
                do {
                    try await client.join(roomID: room)
                    logger.info("matrix room joined", metadata: ["chat.room": "\(room)"])
                } catch {
                    logger.warning("matrix join failed", metadata: ["chat.room": "\(room)", "error": "\(error)"])
                }
            } else {
                let first = state.withLock { $0.declined.insert(room).inserted }
                if first {
                    logger.notice("matrix invite ignored: room not in config", metadata: ["chat.room": "\(room)"])
                }
            }
        }
    }

    // MARK: Buttons as reactions

    /// The platform-state key of the button a reaction `key` stands for on the bot's `event`.
    static func buttonKey(event: String, key: String) -> String { "button:\(event):\(key)" }

    /// Reactions become taps on the button the bot seeded with that key on that message; any
    /// other reaction (👍 on a person's message) is left out.
    func resolveReactions(_ messages: [InboundMessage]) async throws -> [InboundMessage] {
        guard messages.contains(where: { $0.tap != nil }) else { return messages }
        let host = state.withLock { $0.host }
        var out: [InboundMessage] = []
        for var m in messages {
            if let tap = m.tap {
                guard let host, let target = tap.messageID,
                      let data = try await host.state(Self.buttonKey(event: target, key: tap.data)) else {
                    logger.debug("matrix reaction on no button ignored", metadata: ["chat.room": "\(m.room)", "chat.message": "\(m.messageID)"])
                    continue
                }
                m.tap?.data = data
            }
            out.append(m)
        }
        return out
    }

    /// Seeds the bot's own reactions (✅ ❌) on its message `event`, after storing what each
    /// stands for, so that a person's matching reaction is a tap. Each reaction has a txnId of
    /// its own: a retry posts it once; one already there (`M_DUPLICATE_ANNOTATION`) is fine.
    func seed(_ buttons: [[ReplyButton]], on event: String, room: String, txnKey: String) async {
        guard let host = state.withLock({ $0.host }) else { return }
        var seeded = (try? await host.state(Self.reactionsKey(event: event))).flatMap { Self.decodeList($0) } ?? []
        for button in buttons.joined() {
            guard let emoji = button.emoji else { continue }
            do {
                try await host.setState(Self.buttonKey(event: event, key: emoji), button.data)
                let content = MatrixEventContent(relatesTo: MatrixRelation(relType: "m.annotation", eventID: event, key: emoji))
                let id = try await sendPaced(room: room, type: "m.reaction", txnID: MatrixTransactionID.make(key: txnKey + "#react:" + emoji, part: 0),
                                             content: content)
                if !id.isEmpty, !seeded.contains(id) {
                    seeded.append(id)
                    try await host.setState(Self.reactionsKey(event: event), Self.encodeList(seeded))
                }
            } catch let e as MatrixError where e.errcode == "M_DUPLICATE_ANNOTATION" {
                continue
            } catch {
                logger.warning("could not seed a reaction button; the typed command still works",
                               metadata: ["chat.room": "\(room)", "chat.message": "\(event)", "error": "\(error)"])
            }
        }
    }

    /// The platform-state key of the bot's own reactions seeded on its `event` (their event ids).
    static func reactionsKey(event: String) -> String { "reactions:\(event)" }

    static func decodeList(_ json: String) -> [String]? {
        try? JSONDecoder().decode([String].self, from: Data(json.utf8))
    }

    static func encodeList(_ list: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(list)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// Redacts the reactions the bot seeded on `event` (a decision was made: the buttons go, as
    /// Telegram's keyboard does). Best effort: a reaction left behind is a button whose tap
    /// says what happened.
    func redactSeeded(on event: String, room: String) async {
        guard let host = state.withLock({ $0.host }),
              let stored = try? await host.state(Self.reactionsKey(event: event)), let ids = Self.decodeList(stored), !ids.isEmpty else { return }
        var left: [String] = []
        for id in ids {
            do {
                // Synapse rate-limits redactions like messages: wait as told (the txnId redacts once).
                try await paced {
                    try await client.redact(roomID: room, eventID: id, txnID: MatrixTransactionID.make(key: "redact:" + id, part: 0),
                                            reason: "decided")
                }
            } catch {
                left.append(id)
                logger.info("could not redact a seeded reaction", metadata: ["chat.room": "\(room)", "chat.message": "\(id)", "error": "\(error)"])
            }
        }
        try? await host.setState(Self.reactionsKey(event: event), Self.encodeList(left))
    }

    /// Edits the bot's message `messageID`: an `m.replace` event whose `m.new_content` is the
    /// reply, with a "* " fallback body. The txnId comes from the message and the new text, so
    /// a retried edit is posted once.
    public func edit(room: String, messageID: String, reply: Reply) async throws {
        guard client.isReady else { throw DeliveryError(.retry(after: 1), "matrix: not logged in yet") }
        let part = splitter.split(reply).first ?? reply
        let new = splitter.content(part)
        var content = new
        content.body = "* " + (new.body ?? "")
        content.formattedBody = "* " + (new.formattedBody ?? "")
        content.newContent = MatrixNewContent(new)
        content.relatesTo = MatrixRelation(relType: "m.replace", eventID: messageID)
        let txn = MatrixTransactionID.make(key: "edit:\(messageID):" + (new.body ?? ""), part: 0)
        do {
            try await sendPaced(room: room, txnID: txn, content: content)
        } catch {
            throw deliveryError(error, attempts: 0)
        }
        // No buttons any more: the reactions that stood for them go too.
        if (reply.buttons ?? []).isEmpty { await redactSeeded(on: messageID, room: room) }
    }

    /// Any reply without files: its first part replaces the message, the others follow as replies.
    public func canEdit(into reply: Reply) -> Bool {
        (reply.attachments ?? []).isEmpty
    }

    /// Sends an event outside the outbox (a reaction, an edit), waiting out rate limits
    /// (`retry_after_ms`) a few times; the same txnId makes every retry post it once.
    /// - Returns: the event id.
    @discardableResult
    func sendPaced(room: String, type: String = "m.room.message", txnID: String, content: MatrixEventContent) async throws -> String {
        try await paced { try await client.send(roomID: room, type: type, txnID: txnID, content: content) }
    }

    /// Runs `call`, waiting out a 429's `retry_after_ms` (at most 5 times).
    func paced<T>(_ call: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await call()
            } catch let e as MatrixError where e.isRateLimited && attempt < 5 {
                attempt += 1
                try await Task.sleep(nanoseconds: TotalNumber.nanoseconds(max(0.5, e.retryAfter ?? 1)))
            }
        }
    }

    // MARK: Sending

    /// A reply with files becomes a caption notice and one `m.file` event per file; otherwise
    /// its parts.
    public func messageCount(for reply: Reply) -> Int {
        if let files = reply.attachments, !files.isEmpty { return 1 + files.count }
        return max(1, splitter.split(reply).count)
    }

    /// Sends part `part` of the reply as one `m.notice` event, with the txnId of the outbox key
    /// and the part number: resending the same part (after a timeout or a restart) is the same
    /// transaction for the homeserver, so it is posted once. The last part offers the reply's
    /// buttons as reactions, which the bot seeds on it.
    /// - Returns: the event id(s) of the part.
    public func send(_ message: OutgoingMessage, part: Int) async throws -> [String] {
        guard client.isReady else { throw DeliveryError(.retry(after: 1), "matrix: not logged in yet") }
        if let files = message.reply.attachments, !files.isEmpty {
            return try await sendFile(part, of: files, message: message)
        }
        var parts = splitter.split(message.reply)
        guard parts.indices.contains(part) else { return [] }
        let buttons = (message.reply.buttons ?? []).map { $0.filter { $0.emoji != nil } }.filter { !$0.isEmpty }
        let last = part == parts.count - 1
        if last, !buttons.isEmpty {
            let offer = buttons.joined().compactMap { b in b.emoji.map { "\($0) \(b.label)" } }.joined(separator: ", ")
            parts[part].blocks.append(.text("Or react: \(offer)."))
        }
        let ids = try await send(parts[part], index: part, message: message, txnKey: message.key, splitter: splitter)
        if last, !buttons.isEmpty, let event = ids.last {
            await seed(buttons, on: event, room: message.room, txnKey: message.key)
        }
        return ids
    }

    /// Part `part` of a reply with files: 0 is the caption as a notice (a reply, so
    /// notifications fire), then each file uploaded to the media repository and posted as an
    /// `m.file` event. Every event has a txnId from the reply's key, so a retry posts each once
    /// (an upload may repeat; it is referenced once).
    func sendFile(_ part: Int, of files: [ReplyAttachment], message: OutgoingMessage) async throws -> [String] {
        do {
            if part == 0 {
                let notice = MatrixEventContent(msgtype: "m.notice", body: message.reply.caption(),
                                                relatesTo: message.replyTo.map { MatrixRelation.reply(to: $0) })
                return [try await client.send(roomID: message.room, txnID: MatrixTransactionID.make(key: message.key, part: 0), content: notice)]
            }
            guard files.indices.contains(part - 1) else { return [] }
            let file = files[part - 1]
            let data = Data(file.content.utf8)
            let uri = try await client.upload(data, fileName: file.fileName, contentType: file.mimeType)
            let content = MatrixEventContent(msgtype: "m.file", body: file.fileName, filename: file.fileName, url: uri,
                                             info: MatrixFileInfo(mimetype: file.mimeType, size: data.count))
            return [try await client.send(roomID: message.room, txnID: MatrixTransactionID.make(key: message.key + "#file", part: part - 1),
                                          content: content)]
        } catch {
            throw deliveryError(error, attempts: message.attempts)
        }
    }

    /// Sends one part. A part the homeserver refuses as too large (413 `M_TOO_LARGE`: its event
    /// limit is lower than ours, or the envelope grew) is cut again at half the size and sent in
    /// pieces with transaction ids of their own; a reply is never dropped for size.
    func send(_ part: Reply, index: Int, message: OutgoingMessage, txnKey: String,
              splitter: MatrixReplySplitter) async throws -> [String] {
        let content = splitter.content(part, replyTo: message.replyTo)
        let txn = MatrixTransactionID.make(key: txnKey, part: index)
        do {
            return [try await client.send(roomID: message.room, txnID: txn, content: content)]
        } catch let error as MatrixError where error.isTooLarge && splitter.limit > 2_000 {
            let smaller = MatrixReplySplitter(limit: splitter.limit / 2)
            let pieces = smaller.split(part)
            logger.warning("matrix refused a reply part as too large; sending it in smaller pieces",
                           metadata: ["chat.room": "\(message.room)", "matrix.bytes": "\(splitter.size(part))",
                                      "matrix.pieces": "\(pieces.count)"])
            var ids: [String] = []
            for (i, piece) in pieces.enumerated() {
                ids += try await send(piece, index: i, message: message, txnKey: txnKey + "#\(index)", splitter: smaller)
            }
            return ids
        } catch {
            throw deliveryError(error, attempts: message.attempts)
        }
    }

    /// What the outbox should do after a failed send: wait out 429s, retry server errors and
    /// network failures with backoff, drop what the homeserver refuses.
    func deliveryError(_ error: Error, attempts: Int) -> Error {
        switch error {
        case let error as MatrixError:
            if error.isRateLimited { return DeliveryError(.retry(after: max(0.5, error.retryAfter ?? 1)), error.description) }
            if error.isServerError || error.isUnknownToken {
                return DeliveryError(.retry(after: Self.jitter(attempts: attempts)), error.description)
            }
            return DeliveryError(.drop, error.description)
        case let error as HTTPError:
            return DeliveryError(.retry(after: Self.jitter(attempts: attempts)), error.description)
        case let fatal as FatalPlatformError:
            return DeliveryError(.retry(after: 30), fatal.description)
        default:
            return error
        }
    }

    /// Backoff with jitter for the `attempts`-th retry of a send.
    static func jitter(attempts: Int) -> Double {
        var b = Backoff(base: 0.5, cap: 30)
        for _ in 0..<min(attempts, 10) { _ = b.next() }
        return b.next()
    }
}
