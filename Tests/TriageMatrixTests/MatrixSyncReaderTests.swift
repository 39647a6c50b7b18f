import Foundation
import Testing
import TriageChat
import TriageCore
@testable import TriageMatrix

@Suite struct MatrixSyncReaderTests {
    let config = MatrixConfig(homeserver: "http://127.0.0.1:1", userID: "@bot:hs", password: "x",
                              rooms: ["!ops:hs"], users: ["@alice:hs": .operator, "@bob:hs": .viewer])

    func event(_ id: String, sender: String = "@alice:hs", body: String = "!ping", msgtype: String = "m.text",
               extra: [String: Any] = [:], unsigned: [String: Any]? = nil) -> [String: Any] {
        var content: [String: Any] = ["msgtype": msgtype, "body": body]
        content.merge(extra) { $1 }
        var e: [String: Any] = ["event_id": id, "type": "m.room.message", "sender": sender,
                                "origin_server_ts": 1_700_000_000_000, "content": content]
        if let unsigned { e["unsigned"] = unsigned }
        return e
    }

    func sync(_ rooms: [String: [[String: Any]]], invites: [String] = []) -> [String: Any] {
        var join: [String: Any] = [:]
        for (room, events) in rooms { join[room] = ["timeline": ["events": events]] }
        var r: [String: Any] = ["join": join]
        if !invites.isEmpty { r["invite"] = Dictionary(uniqueKeysWithValues: invites.map { ($0, [String: Any]()) }) }
        return ["next_batch": "s2", "rooms": r]
    }

    @Test func emptySyncHasNoRoomsKey() throws {
        let r = try MatrixSyncReader(config: config).read(SyncJSON.sync(["next_batch": "s9"]), snapshot: false)
        #expect(r.nextBatch == "s9")
        #expect(r.messages.isEmpty && r.invites.isEmpty)
    }

    @Test func snapshotRunsNothingButReportsInvites() throws {
        let r = try MatrixSyncReader(config: config).read(try SyncJSON.sync(sync(["!ops:hs": [event("$1")]], invites: ["!new:hs"])), snapshot: true)
        #expect(r.messages.isEmpty)
        #expect(r.invites == ["!new:hs"])
    }

    @Test func keepsOnlyTextFromPeopleWithARoleInAllowedRooms() throws {
        let events = [
            event("$ok"),
            event("$own", sender: "@bot:hs"),
            event("$notice", msgtype: "m.notice"),
            event("$norole", sender: "@carol:hs"),
            event("$edit", body: "* !ping", extra: ["m.relates_to": ["rel_type": "m.replace", "event_id": "$ok"]]),
            event("$old", unsigned: ["membership": "invite"]),
            event("$viewer", sender: "@bob:hs", body: "/help"),
        ]
        let r = try MatrixSyncReader(config: config).read(try SyncJSON.sync(sync(["!ops:hs": events, "!side:hs": [event("$side")]])), snapshot: false)
        #expect(r.messages.map(\.messageID) == ["$ok", "$viewer"])
        #expect(r.messages[1].role == .viewer)
        #expect(r.messages[0].platform == "matrix" && r.messages[0].room == "!ops:hs" && r.messages[0].sender == "@alice:hs")
        let reasons = Dictionary(uniqueKeysWithValues: r.skipped.map { ($0.eventID, $0.reason) })
        #expect(reasons["$own"] == "own event")
        #expect(reasons["$notice"] == "m.notice")
        #expect(reasons["$norole"] == "sender has no role")
        #expect(reasons["$edit"] == "edit")
        #expect(reasons["$old"] == "sent before the bot joined")
        #expect(reasons["$side"] == "room not in config")
    }

    @Test func defaultRoleServesEveryone() throws {
        var c = config
        c.defaultRole = .viewer
        let r = try MatrixSyncReader(config: c).read(try SyncJSON.sync(sync(["!ops:hs": [event("$1", sender: "@zed:hs")]])), snapshot: false)
        #expect(r.messages.first?.role == .viewer)
    }

    @Test func replyFallbackIsStripped() {
        #expect(MatrixSyncReader.strippingReplyFallback("> <@bot:hs> pong\n> more\n\n!pg idle") == "!pg idle")
        #expect(MatrixSyncReader.strippingReplyFallback(">\n> x\n!ping") == "!ping")
        #expect(MatrixSyncReader.strippingReplyFallback("!ping\n> not a fallback") == "!ping\n> not a fallback")
        #expect(MatrixSyncReader.strippingReplyFallback("!ping") == "!ping")
    }

    @Test func messageBodyIsStrippedBeforeParsing() throws {
        let e = event("$r", body: "> <@bot:hs> pong\n\n!ping", extra: ["m.relates_to": ["m.in_reply_to": ["event_id": "$p"]]])
        let r = try MatrixSyncReader(config: config).read(try SyncJSON.sync(sync(["!ops:hs": [e]])), snapshot: false)
        #expect(r.messages.first?.text == "!ping")
    }

    @Test func missingNextBatchIsAnError() {
        #expect(throws: MatrixError.self) { try MatrixSyncReader(config: config).read(SyncJSON.sync(["rooms": [String: Any]()]), snapshot: false) }
    }

    @Test func filterKeepsOnlyMessagesFromOthers() throws {
        let json = MatrixSyncReader(config: config).filterJSON()
        let f = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let timeline = try #require((f["room"] as? [String: Any])?["timeline"] as? [String: Any])
        #expect(timeline["types"] as? [String] == ["m.room.message", "m.reaction"])
        #expect(timeline["not_senders"] as? [String] == ["@bot:hs"])
    }

    func reaction(_ id: String, sender: String, on target: String = "$preview", key: String = "✅",
                  rel: String = "m.annotation") -> [String: Any] {
        ["event_id": id, "type": "m.reaction", "sender": sender, "origin_server_ts": 1_700_000_000_000,
         "content": ["m.relates_to": ["rel_type": rel, "event_id": target, "key": key]]]
    }

    @Test func reactionsFromPeopleWithARoleAreTapsOnTheMessageTheyAnnotate() throws {
        let events = [reaction("$r1", sender: "@alice:hs"), reaction("$r2", sender: "@bob:hs", key: "❌"),
                      reaction("$own", sender: "@bot:hs"), reaction("$nobody", sender: "@carol:hs"),
                      reaction("$odd", sender: "@alice:hs", rel: "m.reference"),
                      ["event_id": "$broken", "type": "m.reaction", "sender": "@alice:hs", "content": ["m.relates_to": "x"]]]
        let r = try MatrixSyncReader(config: config).read(try SyncJSON.sync(sync(["!ops:hs": events, "!other:hs": [reaction("$r3", sender: "@alice:hs")]])),
                                                          snapshot: false)
        #expect(r.messages.map(\.messageID) == ["$r1", "$r2"])
        #expect(r.messages.map(\.role) == [.operator, .viewer])
        #expect(r.messages.first?.tap == ButtonTap(data: "✅", messageID: "$preview"))
        #expect(r.messages.allSatisfy { $0.text.isEmpty })
        let reasons = Dictionary(r.skipped.map { ($0.eventID, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["$own"] == "own event" && reasons["$nobody"] == "sender has no role" && reasons["$r3"] == "room not in config")
    }
}
