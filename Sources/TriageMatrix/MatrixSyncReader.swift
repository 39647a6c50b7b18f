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

    /// Reads a sync answer. An empty sync has no `rooms` key.
    /// - Parameter snapshot: the first sync (no `since`): nothing in it is run.
    /// The served rooms whose timeline was cut (`limited: true` with a `prev_batch`).
    public func gaps(_ json: [String: Any]) -> [Gap] {
        let joined = (json["rooms"] as? [String: Any])?["join"] as? [String: Any] ?? [:]
        return joined.compactMap { room, value -> Gap? in
            guard config.rooms.contains(room), let timeline = (value as? [String: Any])?["timeline"] as? [String: Any],
                  timeline["limited"] as? Bool == true, let prev = timeline["prev_batch"] as? String else { return nil }
            return Gap(room: room, prevBatch: prev)
        }.sorted { $0.room < $1.room }
    }

    /// The commands among `events` (history of `room`, oldest first), filtered as a sync's are.
    public func messages(in events: [[String: Any]], room: String, now: Date = Date()) -> [InboundMessage] {
        var result = Result(nextBatch: "")
        for event in events { read(event, room: room, now: now, into: &result) }
        return result.messages
    }

    /// Reads a sync answer. An empty sync has no `rooms` key.
    /// - Parameters:
    ///   - snapshot: the first sync (no `since`): nothing in it is run.
    ///   - backfill: per room, missed events fetched with `/messages` (oldest first); they come
    ///     before the room's timeline.
    public func read(_ json: [String: Any], snapshot: Bool, now: Date = Date(), backfill: [String: [[String: Any]]]) throws -> Result {
        var json = json
        guard !snapshot, !backfill.isEmpty, var rooms = json["rooms"] as? [String: Any],
              var joined = rooms["join"] as? [String: Any] else { return try read(json, snapshot: snapshot, now: now) }
        for (room, missed) in backfill where !missed.isEmpty {
            var r = joined[room] as? [String: Any] ?? [:]
            var timeline = r["timeline"] as? [String: Any] ?? [:]
            timeline["events"] = missed + (timeline["events"] as? [[String: Any]] ?? [])
            r["timeline"] = timeline
            joined[room] = r
        }
        rooms["join"] = joined
        json["rooms"] = rooms
        return try read(json, snapshot: snapshot, now: now)
    }

    public func read(_ json: [String: Any], snapshot: Bool, now: Date = Date()) throws -> Result {
        guard let nextBatch = json["next_batch"] as? String else {
            throw MatrixError(status: 200, errcode: "M_BAD_JSON", message: "sync answer without next_batch", operation: "sync")
        }
        var result = Result(nextBatch: nextBatch)
        let rooms = json["rooms"] as? [String: Any] ?? [:]
        if let invites = rooms["invite"] as? [String: Any] {
            result.invites = invites.keys.sorted()
        }
        guard !snapshot, let joined = rooms["join"] as? [String: Any] else { return result }
        // Rooms in the order of their first event, so replies come out in the order typed.
        var perRoom: [(room: String, events: [[String: Any]])] = []
        for (room, value) in joined {
            guard let r = value as? [String: Any], let timeline = r["timeline"] as? [String: Any],
                  let events = timeline["events"] as? [[String: Any]], !events.isEmpty else { continue }
            perRoom.append((room, events))
        }
        perRoom.sort { Self.timestamp($0.events.first) < Self.timestamp($1.events.first) }
        for (room, events) in perRoom {
            for event in events {
                read(event, room: room, now: now, into: &result)
            }
        }
        return result
    }

    func read(_ event: [String: Any], room: String, now: Date, into result: inout Result) {
        if event["type"] as? String == "m.reaction" { return readReaction(event, room: room, now: now, into: &result) }
        guard let type = event["type"] as? String, type == "m.room.message",
              let eventID = event["event_id"] as? String, let sender = event["sender"] as? String,
              let content = event["content"] as? [String: Any] else { return }
        func skip(_ reason: String) { result.skipped.append((eventID, room, sender, reason)) }
        if sender == config.userID { return skip("own event") }
        let msgtype = content["msgtype"] as? String
        if msgtype == "m.notice" { return skip("m.notice") }
        guard msgtype == "m.text", let body = content["body"] as? String else { return skip("not text") }
        if let relates = content["m.relates_to"] as? [String: Any], relates["rel_type"] as? String == "m.replace" {
            return skip("edit")
        }
        guard let role = admit(event, sender: sender, room: room, skip: skip) else { return }
        result.messages.append(InboundMessage(platform: "matrix", room: room, sender: sender, senderName: sender,
                                              text: Self.strippingReplyFallback(body), messageID: eventID, role: role,
                                              receivedAt: Self.sent(event, now: now)))
    }

    /// The sender's role when the event is to be handled, else nil (and `skip` told why).
    func admit(_ event: [String: Any], sender: String, room: String, skip: (String) -> Void) -> Role? {
        // Spec v1.11 `unsigned.membership`: the bot's membership when the event was sent.
        // History from before the bot joined (shown once when it joins) is not run.
        if let unsigned = event["unsigned"] as? [String: Any], let membership = unsigned["membership"] as? String,
           membership != "join" {
            skip("sent before the bot joined")
            return nil
        }
        guard config.rooms.contains(room) else { skip("room not in config"); return nil }
        guard let role = config.role(of: sender) else { skip("sender has no role"); return nil }
        return role
    }

    static func sent(_ event: [String: Any], now: Date) -> Date {
        let sent = timestamp(event)
        return sent > 0 ? Date(timeIntervalSince1970: Double(sent) / 1000) : now
    }

    /// A person's reaction (`m.annotation`): a tap on the button its key stands for, on the
    /// message it annotates. The tap's data is the reaction key until the platform maps it to
    /// the button the bot stored for that message (reactions on anything else go no further).
    func readReaction(_ event: [String: Any], room: String, now: Date, into result: inout Result) {
        guard let eventID = event["event_id"] as? String, let sender = event["sender"] as? String,
              let content = event["content"] as? [String: Any],
              let relates = content["m.relates_to"] as? [String: Any], relates["rel_type"] as? String == "m.annotation",
              let target = relates["event_id"] as? String, let key = relates["key"] as? String, !key.isEmpty else { return }
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

    static func timestamp(_ event: [String: Any]?) -> Int64 {
        (event?["origin_server_ts"] as? NSNumber)?.int64Value ?? 0
    }

    /// The inline sync filter: only `m.room.message` and `m.reaction` timeline events from others; no state,
    /// presence, receipts or account data.
    public func filterJSON() -> String {
        let filter: [String: Any] = [
            "room": [
                "timeline": ["types": ["m.room.message", "m.reaction"], "not_senders": [config.userID], "limit": config.timelineLimit],
                "state": ["types": [String]()],
                "ephemeral": ["types": [String]()],
                "account_data": ["types": [String]()],
            ],
            "presence": ["types": [String]()],
            "account_data": ["types": [String]()],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: filter, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
