import Foundation
import Logging
import Testing
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageCore
import TriageHTTP
import TriageStore
@testable import TriageMatrix

/// Against the real Synapse started by scripts/test.sh (scripts/synapse.sh): delivery is
/// idempotent per command, long output is split into events the homeserver accepts, and a
/// rejected token without a password stops the platform with a clear message.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["MATRIX_HS"] != nil), .serialized)
struct MatrixSynapseTests {
    let env = ProcessInfo.processInfo.environment
    var hs: String { env["MATRIX_HS"]! }
    var ops: String { env["MATRIX_ROOM_OPS"]! }
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let http = HTTPClient(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))

    func host(_ store: BotStore) -> StorePlatformHost {
        StorePlatformHost(platform: "matrix", store: store, registry: CommandRegistry())
    }

    func platform(token: String? = nil, password: String? = "botpass") -> MatrixPlatform {
        MatrixPlatform(config: MatrixConfig(homeserver: hs, userID: "@bot:localhost", password: password, accessToken: token,
                                            rooms: [ops], users: [:]), http: Self.http, logger: logger)
    }

    func store() throws -> BotStore {
        let dir = env["TRIAGE_TEST_WORK"] ?? NSTemporaryDirectory()
        return try BotStore(path: "\(dir)/matrix-\(UUID().uuidString).sqlite")
    }

    /// Sends until delivered, honouring the platform's retry advice (the bot is rate-limited).
    func deliver(_ p: MatrixPlatform, _ m: OutboxMessage, _ reply: Reply) async throws {
        for _ in 0..<60 {
            do {
                try await p.sendAll(OutgoingMessage(room: m.room, replyTo: m.replyTo, key: m.key, reply: reply, attempts: m.attempts))
                return
            } catch let e as DeliveryError {
                guard case .retry(let after) = e.disposition else { throw e }
                try await Task.sleep(nanoseconds: UInt64(min(after, 5) * 1e9))
            }
        }
        Issue.record("not delivered")
    }

    /// The bot's events in the ops room that reply to `eventID`, as Alice's client sees them.
    func replies(to eventID: String) async throws -> [[String: Any]] {
        let http = HTTPClient(logger: logger)
        defer { http.shutdown() }
        let url = "\(hs)/_matrix/client/v3/rooms/\(MatrixClient.pathEscaped(ops))/messages?dir=b&limit=200"
        let r = try await http.send(HTTPRequest(url: url, headers: [("Authorization", "Bearer \(env["MATRIX_ALICE_TOKEN"]!)")]))
        let chunk = (try JSONSerialization.jsonObject(with: r.body) as? [String: Any])?["chunk"] as? [[String: Any]] ?? []
        return chunk.filter { e in
            let content = e["content"] as? [String: Any]
            let rel = (content?["m.relates_to"] as? [String: Any])?["m.in_reply_to"] as? [String: Any]
            return rel?["event_id"] as? String == eventID
        }.reversed()
    }

    @Test func retriedAndRestartedSendsPostOnce() async throws {
        let s = try store()
        let p = platform()
        try await p.start(host: host(s))
        _ = try await p.poll(cursor: nil)   // joins the ops room if only invited
        let replyTo = "$fake-\(UUID().uuidString)"
        let m = try OutboxMessage(platform: "matrix", room: ops, replyTo: replyTo, key: "matrix:\(ops):\(replyTo)",
                                  reply: Reply.text("once"), createdAt: Date())
        try await deliver(p, m, Reply.text("once"))
        try await deliver(p, m, Reply.text("once"))          // a retry after a lost answer
        let again = platform()                                 // a restart: same stored device
        try await again.start(host: host(s))
        try await deliver(again, m, Reply.text("once"))
        let seen = try await replies(to: replyTo)
        #expect(seen.count == 1)
        #expect((seen.first?["content"] as? [String: Any])?["msgtype"] as? String == "m.notice")
    }

    @Test func longOutputIsSplitIntoAcceptedEvents() async throws {
        let p = platform()
        try await p.start(host: host(try store()))
        _ = try await p.poll(cursor: nil)
        let rows = (0..<2500).map { i in [ReplyCell("\(i)"), ReplyCell("select <x> from pg_stat_activity where pid = \(i) -- padding padding")] }
        let reply = Reply(title: "Big", blocks: [.table(ReplyTable(columns: ["n", "query"], rows: rows))])
        let parts = MatrixReplySplitter().split(reply)
        #expect(parts.count >= 3)
        let replyTo = "$big-\(UUID().uuidString)"
        let m = try OutboxMessage(platform: "matrix", room: ops, replyTo: replyTo, key: "matrix:\(ops):\(replyTo)",
                                  reply: reply, createdAt: Date())
        try await deliver(p, m, reply)
        let seen = try await replies(to: replyTo)
        #expect(seen.count == parts.count)
        let bodies = seen.compactMap { ($0["content"] as? [String: Any])?["formatted_body"] as? String }
        #expect(bodies.first?.contains("Big (part 1 of \(parts.count))") == true)
        #expect(bodies.last?.contains("<td>2499</td>") == true)
        #expect(bodies.allSatisfy { $0.contains("&lt;x&gt;") && !$0.contains("<x>") })
    }

    /// Sends one part until delivered, honouring the platform's retry advice; its event ids.
    func deliver(_ p: MatrixPlatform, _ m: OutgoingMessage, part: Int) async throws -> [String] {
        for _ in 0..<60 {
            do {
                return try await p.send(m, part: part)
            } catch let e as DeliveryError {
                guard case .retry(let after) = e.disposition else { throw e }
                try await Task.sleep(nanoseconds: UInt64(min(after, 5) * 1e9))
            }
        }
        Issue.record("not delivered")
        return []
    }

    /// A part found "sending" after a crash is sent again by the outbox: with the same txnId
    /// (outbox key + part), so the homeserver answers with the event it already posted.
    @Test func aPartResentAfterARestartIsTheSameEvent() async throws {
        let s = try store()
        let p = platform()
        try await p.start(host: host(s))
        _ = try await p.poll(cursor: nil)
        let rows = (0..<2500).map { i in [ReplyCell("\(i)"), ReplyCell("select <x> from pg_stat_activity where pid = \(i) -- padding padding")] }
        let reply = Reply(title: "Parts", blocks: [.table(ReplyTable(columns: ["n", "query"], rows: rows))])
        let replyTo = "$parts-\(UUID().uuidString)"
        let m = OutgoingMessage(room: ops, replyTo: replyTo, key: "matrix:\(ops):\(replyTo)", reply: reply)
        let count = p.messageCount(for: reply)
        #expect(count >= 3)
        var first: [[String]] = []
        for part in 0..<count { first.append(try await deliver(p, m, part: part)) }
        let again = platform()                                 // a restart: same stored device
        try await again.start(host: host(s))
        let resent = try await deliver(again, m, part: 1)
        #expect(resent == first[1] && !resent.isEmpty)
        let seen = try await replies(to: replyTo)
        #expect(seen.count == count)
        #expect(seen.compactMap { $0["event_id"] as? String } == first.flatMap { $0 })
    }

    @Test func rejectedTokenWithoutPasswordStopsClearly() async throws {
        let p = platform(token: "syt_not_a_real_token", password: nil)
        await #expect {
            try await p.start(host: host(try store()))
        } throws: { error in
            "\(error)".contains("M_UNKNOWN_TOKEN") && "\(error)".contains("no password_env")
        }
    }
}
