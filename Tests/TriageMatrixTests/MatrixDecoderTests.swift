import Foundation
import Testing
import TriageCore
@testable import TriageMatrix

/// The homeserver's JSON is outside input: wrong types, absurd numbers, missing fields, markup
/// and quotes. A malformed event is skipped, the rest of the batch is kept, nothing traps.
@Suite struct MatrixDecoderTests {
    let config = MatrixConfig(homeserver: "http://127.0.0.1:1", userID: "@bot:hs", password: "x",
                              rooms: ["!ops:hs", "!b:hs"], users: ["@alice:hs": .operator])
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func good(_ id: String, _ body: String = "!ping", ts: String = "1700000000000") -> String {
        #"{"event_id":"\#(id)","type":"m.room.message","sender":"@alice:hs","origin_server_ts":\#(ts),"content":{"msgtype":"m.text","body":"\#(body)"}}"#
    }

    func batch(_ events: [String], extra: String = "") -> String {
        #"{"next_batch":"s5","rooms":{"join":{"!ops:hs":{"timeline":{"events":[\#(events.joined(separator: ","))]}}}}\#(extra)}"#
    }

    @Test func aMalformedEventIsSkippedAndTheRestOfTheBatchKept() throws {
        let hostile = [
            good("$1"),
            #""just a string""#, "42", "null", "[1,2,3]", "true",
            #"{"event_id":"$c","type":"m.room.message","sender":"@alice:hs","content":[1]}"#,
            #"{"event_id":"$b","type":"m.room.message","sender":"@alice:hs","content":{"msgtype":"m.text","body":12}}"#,
            #"{"event_id":"$s","type":"m.room.message","sender":{"id":"@alice:hs"},"content":{"msgtype":"m.text","body":"!ping"}}"#,
            #"{"event_id":7,"type":"m.room.message","sender":"@alice:hs","content":{"msgtype":"m.text","body":"!ping"}}"#,
            #"{"type":["m.room.message"],"event_id":"$t","sender":"@alice:hs","content":{"msgtype":"m.text","body":"!ping"}}"#,
            #"{"event_id":"$m","type":"m.room.message","sender":"@alice:hs","content":{"msgtype":null,"body":"!ping"}}"#,
            good("$2"),
        ]
        let sync = try SyncJSON.sync(batch(hostile))
        #expect(sync.joined["!ops:hs"]?.malformed == 5)
        let r = try MatrixSyncReader(config: config).read(sync, snapshot: false, now: now)
        #expect(r.messages.map(\.messageID) == ["$1", "$2"])
        let reasons = Dictionary(r.skipped.map { ($0.eventID, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["$b"] == "not text" && reasons["$m"] == "not text")
        #expect(r.skipped.filter { $0.reason == "malformed event" }.count == 5)
    }

    @Test func absurdTimestampsFallBackToArrivalTime() throws {
        let events = [good("$huge", ts: "1e400"), good("$big", ts: "99999999999999999999999999"), good("$neg", ts: "-5"),
                      good("$text", ts: #""1700000000000""#), good("$float", ts: "1700000000000.75"), good("$ok")]
        let r = try MatrixSyncReader(config: config).read(SyncJSON.sync(batch(events)), snapshot: false, now: now)
        #expect(r.messages.map(\.messageID) == ["$huge", "$big", "$neg", "$text", "$float", "$ok"])
        let at = Dictionary(uniqueKeysWithValues: r.messages.map { ($0.messageID, $0.receivedAt) })
        for id in ["$huge", "$big", "$neg", "$text"] { #expect(at[id] == now, "\(id)") }
        #expect(at["$float"] == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(at["$ok"] == Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test func markupQuotesAndControlCharactersInBodiesArriveAsTyped() throws {
        let body = #"!note <script>alert(\"x\")</script> & 'q' \\ \u0000 \u2028 <b>"#
        let r = try MatrixSyncReader(config: config).read(SyncJSON.sync(batch([good("$h", body)])), snapshot: false, now: now)
        #expect(r.messages.first?.text == "!note <script>alert(\"x\")</script> & 'q' \\ \u{0} \u{2028} <b>")
    }

    @Test func hostileRoomsAndTimelinesLoseOnlyThemselves() throws {
        let text = #"""
            {"next_batch":"s6","presence":{"events":"x"},"to_device":7,"account_data":null,
             "rooms":{"join":{"!ops:hs":{"timeline":{"events":[\#(good("$ok"))],"limited":"yes","prev_batch":5}},
                              "!b:hs":"not a room",
                              "!c:hs":{"timeline":42},
                              "!d:hs":{"timeline":{"events":{"0":{}}}}},
                      "invite":{"!new:hs":"odd","!other:hs":{"invite_state":{}}},
                      "leave":[]}}
            """#
        let sync = try SyncJSON.sync(text)
        let reader = MatrixSyncReader(config: config)
        #expect(reader.gaps(sync).isEmpty, "limited must be a boolean and prev_batch a string")
        let r = try reader.read(sync, snapshot: false, now: now)
        #expect(r.messages.map(\.messageID) == ["$ok"])
        #expect(r.invites == ["!new:hs", "!other:hs"])
        #expect(try SyncJSON.sync(#"{"next_batch":"s","rooms":{"invite":["!x:hs"],"join":"no"}}"#).invites.isEmpty)
    }

    @Test func aSyncWithoutAUsableNextBatchIsRefused() throws {
        for text in [#"{"next_batch":12}"#, #"{"next_batch":null}"#, #"{"rooms":{}}"#] {
            #expect(throws: MatrixError.self) { try MatrixSyncReader(config: config).read(SyncJSON.sync(text), snapshot: false) }
        }
    }

    @Test func answersThatAreNotObjectsAreBadJSONErrors() throws {
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        for text in ["", "<html>502 Bad Gateway</html>", "[]", #""s""#, "null", #"{"next_batch":"s""#, deep] {
            #expect {
                try MatrixClient.decode(MatrixSync.self, Data(text.utf8), operation: "sync")
            } throws: { ($0 as? MatrixError)?.errcode == "M_BAD_JSON" }
        }
        #expect(throws: MatrixError.self) { try MatrixClient.decode(MatrixAPI.SendResponse.self, Data("[]".utf8), operation: "send") }
        #expect(throws: MatrixError.self) { try MatrixClient.decode(MatrixJSON.AnyObject.self, Data("3".utf8), operation: "join") }
        _ = try MatrixClient.decode(MatrixJSON.AnyObject.self, Data("{}".utf8), operation: "join")
    }

    @Test func deeplyNestedValuesInsideAnEventDoNotTrap() throws {
        let deep = String(repeating: #"{"a":"#, count: 3_000) + "1" + String(repeating: "}", count: 3_000)
        let event = #"{"event_id":"$d","type":"m.room.message","sender":"@alice:hs","content":{"msgtype":"m.text","body":"!ping","x":\#(deep)}}"#
        // Either the whole answer is refused as too deep, or the event decodes: never a crash.
        if let sync = try? SyncJSON.sync(batch([event, good("$ok")])) {
            let r = try MatrixSyncReader(config: config).read(sync, snapshot: false, now: now)
            #expect(r.messages.map(\.messageID).contains("$ok"))
        }
    }

    @Test func redactionsEditsAndUnknownTypesAreLeftOut() throws {
        let events = [
            #"{"event_id":"$red","type":"m.room.message","sender":"@alice:hs","content":{},"unsigned":{"redacted_because":{"type":"m.room.redaction"}}}"#,
            #"{"event_id":"$rr","type":"m.room.redaction","sender":"@alice:hs","redacts":"$red","content":{"reason":"oops"}}"#,
            #"{"event_id":"$e","type":"m.room.message","sender":"@alice:hs","content":{"msgtype":"m.text","body":"* !pg terminate 1","m.new_content":"x","m.relates_to":{"rel_type":"m.replace","event_id":"$1"}}}"#,
            #"{"event_id":"$u","type":"org.example.custom","sender":"@alice:hs","content":{"body":"!ping"}}"#,
            #"{"event_id":"$j","type":"m.room.message","sender":"@alice:hs","content":{"msgtype":"m.text","body":"!ping"},"unsigned":"join"}"#,
        ]
        let sync = try SyncJSON.sync(batch(events))
        #expect(sync.joined["!ops:hs"]?.events.first?.isRedacted == true)
        let r = try MatrixSyncReader(config: config).read(sync, snapshot: false, now: now)
        #expect(r.messages.map(\.messageID) == ["$j"], "unsigned that is not an object is ignored, not a reason to drop")
        let reasons = Dictionary(r.skipped.map { ($0.eventID, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["$red"] == "not text" && reasons["$e"] == "edit")
    }

    @Test func hostileReactionsAreNotTaps() throws {
        func reaction(_ id: String, _ relates: String) -> String {
            #"{"event_id":"\#(id)","type":"m.reaction","sender":"@alice:hs","content":{"m.relates_to":\#(relates)}}"#
        }
        let events = [
            reaction("$k", #"{"rel_type":"m.annotation","event_id":"$p","key":7}"#),
            reaction("$e", #"{"rel_type":"m.annotation","event_id":["$p"],"key":"✅"}"#),
            reaction("$n", #"{"rel_type":"m.annotation","event_id":"$p","key":""}"#),
            reaction("$long", #"{"rel_type":"m.annotation","event_id":"$p","key":"\#(String(repeating: "✅", count: 500))"}"#),
        ]
        let r = try MatrixSyncReader(config: config).read(SyncJSON.sync(batch(events)), snapshot: false, now: now)
        #expect(r.messages.map(\.messageID) == ["$long"])
        #expect(r.messages.first?.tap?.data.count == 64)
    }

    @Test func hostileErrorBodies() {
        func error(_ status: Int, _ body: String, headers: [String: String] = [:]) -> MatrixError {
            MatrixError(response: status, headers: headers, body: Data(body.utf8), operation: "send")
        }
        #expect(error(429, #"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1e300}"#).retryAfter == 3600)
        #expect(error(429, #"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":-5000}"#).retryAfter == 0)
        #expect(error(429, #"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":"soon"}"#, headers: ["retry-after": "4"]).retryAfter == 4)
        #expect(error(429, #"{"retry_after_ms":"soon"}"#).retryAfter == 1)
        #expect(error(429, #"{"retry_after_ms":1e400}"#).retryAfter == 1)
        #expect(error(429, #"{"errcode":"M_LIMIT_EXCEEDED","data":{"retry_after_ms":2500}}"#).retryAfter == 2.5)
        let odd = error(400, #"{"errcode":17,"error":["x"]}"#)
        #expect(odd.errcode == "M_UNKNOWN" && odd.message == "HTTP 400" && odd.retryAfter == nil)
        let html = error(502, "<html><body>Bad \"Gateway\"</body></html>")
        #expect(html.errcode == "M_UNKNOWN" && html.isServerError && html.description == "Matrix send failed: 502 M_UNKNOWN: HTTP 502")
        let long = error(403, #"{"errcode":"M_FORBIDDEN","error":"\#(String(repeating: "<x>", count: 5_000))"}"#)
        #expect(long.errcode == "M_FORBIDDEN" && long.message.count == 300)
    }

    @Test func hostileAnswersToLoginUploadAndMessages() throws {
        let login = try MatrixClient.decode(MatrixAPI.Session.self, Data(#"{"access_token":12,"device_id":"D"}"#.utf8), operation: "login")
        #expect(login.accessToken == nil && login.deviceID == "D")
        let upload = try MatrixClient.decode(MatrixAPI.UploadResponse.self, Data(#"{"content_uri":{"x":1}}"#.utf8), operation: "upload")
        #expect(upload.contentURI == nil)
        let sent = try MatrixClient.decode(MatrixAPI.SendResponse.self, Data(#"{"event_id":null}"#.utf8), operation: "send")
        #expect(sent.eventID == nil)
        let page = try MatrixClient.decode(MatrixAPI.MessagesPage.self,
                                           Data(#"{"chunk":[\#(good("$a")),"x",\#(good("$b"))],"end":99}"#.utf8), operation: "messages")
        #expect(page.chunk.map(\.eventID) == ["$a", "$b"] && page.end == nil)
        let noChunk = try MatrixClient.decode(MatrixAPI.MessagesPage.self, Data(#"{"chunk":"none"}"#.utf8), operation: "messages")
        #expect(noChunk.chunk.isEmpty)
    }

    @Test func contentWithMarkupAndQuotesRoundTrips() throws {
        let content = MatrixEventContent(msgtype: "m.notice", body: #"a "quoted" <b>&amp; \ / 🚨"#, format: "org.matrix.custom.html",
                                         formattedBody: #"<p>a &quot;quoted&quot; &lt;b&gt;</p>"#,
                                         relatesTo: MatrixRelation(relType: "m.replace", eventID: "$1"),
                                         newContent: MatrixNewContent(MatrixEventContent(msgtype: "m.notice", body: "n")))
        let data = try JSONEncoder().encode(content)
        #expect(try JSONDecoder().decode(MatrixEventContent.self, from: data) == content)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["filename"] == nil && object["info"] == nil, "absent fields are not written")
        #expect((object["m.new_content"] as? [String: Any])?["body"] as? String == "n")
    }
}
