import Foundation
import TriageChat
import TriageCore

/// Turns a `/sync` answer into the messages Triage should handle, the invites to consider,
/// and why anything else was left out. Pure: no I/O, so it is tested on recorded JSON.
public struct MatrixSyncReader: Sendable {
    /// What one sync brought.
    public struct Result {
        /// `next_batch`: the cursor to store with the handling.
        public var nextBatch: String
        /// Messages from allowed rooms and people with a role, in timeline order per room.
        public var messages: [InboundMessage] = []
        /// Rooms the bot was invited to.
        public var invites: [String] = []
        /// Events left out, with the reason (for debug logs): own, notice, room, role, edit.
        public var skipped: [(eventID: String, room: String, sender: String, reason: String)] = []
    }

    /// A room whose timeline in this sync was `limited`: events between the stored `since`
    /// and the first event shown are missing, reachable from `prevBatch` with `/messages`.
    public struct Gap: Sendable, Equatable {
        public var room: String
        public var prevBatch: String
    }

    public let config: MatrixConfig

    public init(config: MatrixConfig) {
        self.config = config
    }

    /// The served rooms whose timeline was cut (`limited: true` with a `prev_batch`).
    public func gaps(_ sync: MatrixSync) -> [Gap] {
        sync.joined.compactMap { room, timeline -> Gap? in
            guard config.rooms.contains(room), timeline.limited, let prev = timeline.prevBatch else { return nil }
            return Gap(room: room, prevBatch: prev)
        }.sorted { $0.room < $1.room }
    }

    /// The commands among `events` (history of `room`, oldest first), filtered as a sync's are.
    public func messages(in events: [MatrixEvent], room: String, now: Date = Date()) -> [InboundMessage] {
        var result = Result(nextBatch: "")
        for event in events { read(event, room: room, now: now, into: &result) }
        return result.messages
    }

    /// Reads a sync answer. An empty sync has no `rooms` key.
    /// - Parameters:
    ///   - snapshot: the first sync (no `since`): nothing in it is run.
    ///   - backfill: per room, missed events fetched with `/messages` (oldest first); they come
    ///     before the room's timeline.
    public func read(_ sync: MatrixSync, snapshot: Bool, now: Date = Date(), backfill: [String: [MatrixEvent]]) throws -> Result {
        var sync = sync
        if !snapshot {
            for (room, missed) in backfill where !missed.isEmpty {
                sync.joined[room, default: MatrixSync.Timeline()].events.insert(contentsOf: missed, at: 0)
            }
        }
        return try read(sync, snapshot: snapshot, now: now)
    }

    /// Reads a sync answer. An empty sync has no `rooms` key.
    /// - Parameter snapshot: the first sync (no `since`): nothing in it is run.
    public func read(_ sync: MatrixSync, snapshot: Bool, now: Date = Date()) throws -> Result {
        guard let nextBatch = sync.nextBatch else {
            throw MatrixError(status: 200, errcode: "M_BAD_JSON", message: "sync answer without next_batch", operation: "sync")
        }
        var result = Result(nextBatch: nextBatch)
        result.invites = sync.invites
        guard !snapshot else { return result }
        // Rooms in the order of their first event, so replies come out in the order typed.
        let perRoom = sync.joined.filter { !$0.value.events.isEmpty || $0.value.malformed > 0 }
            .sorted { ($0.value.events.first?.originServerTS ?? 0) < ($1.value.events.first?.originServerTS ?? 0) }
        for (room, timeline) in perRoom {
            for _ in 0..<timeline.malformed {
                result.skipped.append(("", room, "", "malformed event"))
            }
            for event in timeline.events {
                read(event, room: room, now: now, into: &result)
            }
        }
        return result
    }

    func read(_ event: MatrixEvent, room: String, now: Date, into result: inout Result) {
        if event.type == "m.reaction" { return readReaction(event, room: room, now: now, into: &result) }
        guard event.type == "m.room.message", let eventID = event.eventID, let sender = event.sender,
              let content = event.content else { return }
        func skip(_ reason: String) { result.skipped.append((eventID, room, sender, reason)) }
        if sender == config.userID { return skip("own event") }
        if content.msgtype == "m.notice" { return skip("m.notice") }
        guard content.msgtype == "m.text", let body = content.body else { return skip("not text") }
        if content.relatesTo?.relType == "m.replace" { return skip("edit") }
        guard let role = admit(event, sender: sender, room: room, skip: skip) else { return }
        result.messages.append(InboundMessage(platform: "matrix", room: room, sender: sender, senderName: sender,
                                              text: Self.strippingReplyFallback(body), messageID: eventID, role: role,
                                              receivedAt: Self.sent(event, now: now)))
    }

    /// The sender's role when the event is to be handled, else nil (and `skip` told why).
    func admit(_ event: MatrixEvent, sender: String, room: String, skip: (String) -> Void) -> Role? {
        // Spec v1.11 `unsigned.membership`: the bot's membership when the event was sent.
        // History from before the bot joined (shown once when it joins) is not run.
        if let membership = event.membership, membership != "join" {
            skip("sent before the bot joined")
            return nil
        }
        guard config.rooms.contains(room) else { skip("room not in config"); return nil }
        guard let role = config.role(of: sender) else { skip("sender has no role"); return nil }
        return role
    }

    static func sent(_ event: MatrixEvent, now: Date) -> Date {
        let sent = event.originServerTS
        return sent > 0 ? Date(timeIntervalSince1970: Double(sent) / 1000) : now
    }

    /// A person's reaction (`m.annotation`): a tap on the button its key stands for, on the
    /// message it annotates. The tap's data is the reaction key until the platform maps it to
    /// the button the bot stored for that message (reactions on anything else go no further).
    func readReaction(_ event: MatrixEvent, room: String, now: Date, into result: inout Result) {
        guard let eventID = event.eventID, let sender = event.sender, let relates = event.content?.relatesTo,
              relates.relType == "m.annotation", let target = relates.eventID, let key = relates.key, !key.isEmpty else { return }
        func skip(_ reason: String) { result.skipped.append((eventID, room, sender, reason)) }
        if sender == config.userID { return skip("own event") }
        guard let role = admit(event, sender: sender, room: room, skip: skip) else { return }
        result.messages.append(InboundMessage(platform: "matrix", room: room, sender: sender, senderName: sender, text: "",
                                              messageID: eventID, role: role, receivedAt: Self.sent(event, now: now),
                                              tap: ButtonTap(data: String(key.prefix(64)), messageID: target)))
    }

    /// The body without the quoted message a client puts before a reply (`> <@a:hs> text`
    /// lines, then an empty line).
    public static func strippingReplyFallback(_ body: String) -> String {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        var i = 0
        while i < lines.count, lines[i] == ">" || lines[i].hasPrefix("> ") { i += 1 }
        guard i > 0 else { return body }
        while i < lines.count, lines[i].allSatisfy({ $0 == " " || $0 == "\r" }) { i += 1 }
        return lines[i...].joined(separator: "\n")
    }

    /// The inline sync filter: only `m.room.message` and `m.reaction` timeline events from others; no state,
    /// presence, receipts or account data.
    public func filterJSON() -> String {
        let filter = MatrixAPI.SyncFilter(room: .init(timeline: .init(types: ["m.room.message", "m.reaction"],
                                                                       notSenders: [config.userID], limit: config.timelineLimit)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(filter)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
