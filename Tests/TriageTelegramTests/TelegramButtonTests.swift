import Foundation
import Testing
import TriageCore
@testable import TriageTelegram

@Suite struct TelegramButtonTests {
    @Test func keyboardKeepsOnlyButtonsWhoseDataFitsInSixtyFourBytes() throws {
        let long = String(repeating: "é", count: 33)   // 66 bytes in UTF-8, 33 characters
        let rows: [[ReplyButton]] = [[ReplyButton("Confirm", data: "c:abcdefgh"), ReplyButton("Too long", data: long)],
                                     [ReplyButton("Empty", data: "")]]
        let keyboard = try #require(InlineKeyboard(rows))
        #expect(keyboard.inline_keyboard == [[InlineKeyboard.Button(text: "Confirm", callback_data: "c:abcdefgh")]])
        #expect(InlineKeyboard(nil) == nil)
        #expect(InlineKeyboard([[ReplyButton("x", data: long)]]) == nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(keyboard), as: UTF8.self)
        #expect(json == #"{"inline_keyboard":[[{"callback_data":"c:abcdefgh","text":"Confirm"}]]}"#)
    }

    @Test func aCallbackQueryDecodesWithAnInaccessibleMessage() throws {
        let json = """
        [{"update_id": 7, "callback_query": {"id": "4382", "from": {"id": 11, "is_bot": false, "first_name": "A", "username": "op"},
          "message": {"chat": {"id": -5, "type": "group"}, "message_id": 42, "date": 0}, "chat_instance": "9", "data": "c:abcdefgh"}},
         {"update_id": 8, "callback_query": {"id": "4383", "from": {"id": 11}, "chat_instance": "9", "game_short_name": "g"}}]
        """
        let batch = try JSONDecoder().decode(TelegramUpdateBatch.self, from: Data(json.utf8))
        guard case .update(let u) = batch.elements.first, let q = u.callback_query else { Issue.record("not decoded"); return }
        #expect(q.id == "4382" && q.from.id == 11 && q.data == "c:abcdefgh")
        #expect(q.message?.message_id == 42 && q.message?.chat.id == -5 && q.message?.date == 0)
        guard case .update(let game) = batch.elements.last else { Issue.record("not decoded"); return }
        #expect(game.callback_query?.data == nil && game.callback_query?.message == nil)
    }

    @Test func multipartBodyHasTheFieldsAndTheFileByteForByte() {
        var form = MultipartFormData(boundary: "XyZ")
        form.field("chat_id", "-5")
        form.file("document", fileName: "a\"b.md", mimeType: "text/markdown", data: Data("# T\r\n\u{0}é".utf8))
        let body = String(decoding: form.data, as: UTF8.self)
        #expect(form.contentType == "multipart/form-data; boundary=XyZ")
        #expect(body == "--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n-5\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a'b.md\"\r\nContent-Type: text/markdown\r\n\r\n"
                + "# T\r\n\u{0}é\r\n--XyZ--\r\n")
        // The default boundary is random (128 bits): no file content can contain it by chance.
        #expect(MultipartFormData().boundary != MultipartFormData().boundary && MultipartFormData().boundary.count > 32)
    }
}
