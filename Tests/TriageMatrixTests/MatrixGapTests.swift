import Foundation
import Testing
import TriageCore
@testable import TriageMatrix

/// A `limited` sync: the gap is found, missed events come before the timeline, in order.
@Suite struct MatrixGapTests {
    let config = MatrixConfig(homeserver: "http://127.0.0.1:1", userID: "@bot:hs", password: "x",
                              rooms: ["!ops:hs", "!b:hs"], users: ["@alice:hs": .operator])

    func event(_ id: String, ts: Int64 = 1_700_000_000_000, body: String = "!ping") -> [String: Any] {
        ["event_id": id, "type": "m.room.message", "sender": "@alice:hs", "origin_server_ts": ts,
         "content": ["msgtype": "m.text", "body": body]]
    }

    func sync(limited: [String: Bool]) -> [String: Any] {
        var join: [String: Any] = [:]
        for (room, isLimited) in limited {
            join[room] = ["timeline": ["events": [event("$t-\(room)", ts: 1_700_000_000_500)], "limited": isLimited,
                                       "prev_batch": "p-\(room)"]]
        }
        join["!notserved:hs"] = ["timeline": ["events": [event("$x")], "limited": true, "prev_batch": "p-x"]]
        return ["next_batch": "s2", "rooms": ["join": join]]
    }

    @Test func gapsAreTheServedLimitedRooms() throws {
        let reader = MatrixSyncReader(config: config)
        let gaps = reader.gaps(try SyncJSON.sync(sync(limited: ["!ops:hs": true, "!b:hs": false])))
        #expect(gaps == [MatrixSyncReader.Gap(room: "!ops:hs", prevBatch: "p-!ops:hs")])
        #expect(reader.gaps(try SyncJSON.sync(["next_batch": "s"])).isEmpty)
    }

    @Test func backfillComesFirstInOrder() throws {
        let reader = MatrixSyncReader(config: config)
        let missed = (1...5).map { event("$m\($0)", ts: 1_700_000_000_000 + Int64($0)) }
        let r = try reader.read(SyncJSON.sync(sync(limited: ["!ops:hs": true])), snapshot: false, backfill: SyncJSON.backfill(["!ops:hs": missed]))
        #expect(r.messages.map(\.messageID) == ["$m1", "$m2", "$m3", "$m4", "$m5", "$t-!ops:hs"])
        // A snapshot still runs nothing, backfill or not.
        #expect(try reader.read(SyncJSON.sync(sync(limited: ["!ops:hs": true])), snapshot: true, backfill: SyncJSON.backfill(["!ops:hs": missed])).messages.isEmpty)
    }

    @Test func historyIsFilteredLikeASync() throws {
        let reader = MatrixSyncReader(config: config)
        var own = event("$own")
        own["sender"] = "@bot:hs"
        var notice = event("$n")
        notice["content"] = ["msgtype": "m.notice", "body": "!ping"]
        let found = reader.messages(in: try SyncJSON.events([event("$a"), own, notice, event("$b", body: "hello")]), room: "!ops:hs")
        #expect(found.map(\.messageID) == ["$a", "$b"])
        #expect(reader.messages(in: try SyncJSON.events([event("$a")]), room: "!elsewhere:hs").isEmpty)
    }

    @Test func missedMaxAgeIsConfigurable() throws {
        func parse(_ extra: String) throws -> MatrixConfig {
            let root = try YAMLNode.parse("""
                matrix:
                  homeserver: https://hs
                  user_id: "@t:hs"
                  password_env: PW
                  rooms: ["!a:hs"]
                \(extra)
                """, file: "t.yaml")
            return try MatrixConfig.parse(root["matrix"]!, defaultRole: .viewer, environment: ["PW": "x"])
        }
        #expect(try parse("").missedMaxAge == 3600)
        #expect(try parse("  missed_max_age: 15m").missedMaxAge == 900)
        #expect(try parse("  missed_max_age: 0s").missedMaxAge == 0)
        #expect(throws: ConfigError.self) { try parse("  missed_max_age: 30d") }
        #expect(throws: ConfigError.self) { try parse("  missed_max_age: soon") }
    }
}
