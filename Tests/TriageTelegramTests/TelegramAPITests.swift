import Foundation
import Logging
import Testing
import TriageTesting
import TriageHTTP
@testable import TriageTelegram

/// The Bot API client against the stand-in server (`Tests/e2e/telegram_standin.py`).
@Suite struct TelegramAPITests {
    static let token = "123456:TEST-token_abc"

    func standIn() throws -> EchoServer {
        try EchoServer(script: "e2e/telegram_standin.py",
                                       arguments: ["--port", "0", "--token", Self.token, "--exit-on-stdin-eof"])
    }

    @Test func editWithUnchangedTextCountsAsSuccess() async throws {
        let server = try standIn()
        let http = HTTPClient(logger: Logger(label: "test"))
        defer { http.shutdown(); server.stop() }
        let api = TelegramAPI(http: http, apiURL: server.base, token: Self.token)
        let me = try await api.getMe()
        #expect(me.username == "triage_test_bot")
        let sent = try await api.sendMessage(chatID: 5, html: "<b>pong</b> &lt;1 ms&gt;", replyTo: nil)
        try await api.editMessageText(chatID: 5, messageID: sent.message_id, html: "<b>pong</b> &lt;1 ms&gt;")   // not modified
        try await api.editMessageText(chatID: 5, messageID: sent.message_id, html: "<i>pong</i> again")
        await #expect {
            try await api.editMessageText(chatID: 5, messageID: 999, html: "x")
        } throws: { ($0 as? TelegramAPIError)?.status == 400 }
    }

    @Test func errorsCarryTheBotAPIFields() async throws {
        let server = try standIn()
        let http = HTTPClient(logger: Logger(label: "test"))
        defer { http.shutdown(); server.stop() }
        let api = TelegramAPI(http: http, apiURL: server.base, token: Self.token)
        // Bad HTML is a 400 "can't parse entities", as from the real server.
        await #expect {
            _ = try await api.sendMessage(chatID: 5, html: "<table>x</table>", replyTo: nil)
        } throws: { e in
            guard let e = e as? TelegramAPIError else { return false }
            return e.status == 400 && e.message.contains("can't parse entities") && !e.isTransient
        }
        // Flood control: past the burst of 3, a 429 with retry_after. (Sent until it comes: on a
        // loaded machine the bucket refills between slow sends.)
        var flood: TelegramAPIError?
        for _ in 0..<20 where flood == nil {
            do {
                _ = try await api.sendMessage(chatID: 6, html: "hi", replyTo: nil)
            } catch let e as TelegramAPIError {
                flood = e
            }
        }
        #expect(flood?.status == 429 && (flood?.retryAfter ?? 0) >= 1 && flood?.isTransient == true)
        // A wrong token is 401, and the token is not in the error.
        let wrong = TelegramAPI(http: http, apiURL: server.base, token: "999:secret-x")
        await #expect {
            _ = try await wrong.getMe()
        } throws: { e in
            guard let e = e as? TelegramAPIError else { return false }
            return e.status == 401 && !"\(e)".contains("secret")
        }
        // An empty long poll comes back after its timeout with no updates.
        let batch = try await api.getUpdates(offset: nil, timeout: 1)
        #expect(batch.elements.isEmpty)
    }
}
