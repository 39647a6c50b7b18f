import Foundation
import Testing
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageCore
@testable import TriageTelegram

@Suite struct TelegramUpdateTests {
    func entity(_ offset: Int, _ length: Int) -> TelegramUpdate.Entity {
        TelegramUpdate.Entity(type: "bot_command", offset: offset, length: length)
    }

    @Test func commandEntityOffsetsAreUTF16() {
        // 🔥 is two UTF-16 code units: the command starts at offset 3, not 2.
        let text = "🔥 /pg@triage_bot idle --older 5m"
        let found = TelegramCommandText.find(text: text, entities: [entity(3, 14)])
        #expect(found == TelegramCommandText(line: "/pg idle --older 5m", mention: "triage_bot"))
    }

    @Test func plainCommandAndChatAreTellApart() {
        #expect(TelegramCommandText.find(text: "/ping", entities: [entity(0, 5)])?.line == "/ping")
        #expect(TelegramCommandText.find(text: "I ran /ping", entities: [entity(6, 5)]) == nil)
        #expect(TelegramCommandText.find(text: "/ping", entities: []) == nil)
        #expect(TelegramCommandText.find(text: "/ping", entities: [entity(0, 50)]) == nil)
    }

    @Test func malformedUpdatesAreReportedOneByOne() throws {
        let json = """
        {"ok":true,"result":[
          {"update_id":1,"message":{"message_id":10,"chat":{"id":5,"type":"private"},"from":{"id":7,"is_bot":false,"first_name":"a"},"text":"/ping","entities":[{"type":"bot_command","offset":0,"length":5}]}},
          {"update_id":2,"message":{"message_id":"x","chat":5}},
          [1,2,3],
          {"update_id":4,"edited_message":{"message_id":3}}
        ]}
        """
        let envelope = try JSONDecoder().decode(TelegramAPI.Envelope<TelegramUpdateBatch>.self, from: Data(json.utf8))
        let elements = envelope.result!.elements
        #expect(elements.count == 4)
        guard case .update(let u1) = elements[0] else { Issue.record("first should decode"); return }
        #expect(u1.message?.text == "/ping")
        guard case .malformed(let id2, _) = elements[1] else { Issue.record("second is malformed"); return }
        #expect(id2 == 2)
        guard case .malformed(let id3, _) = elements[2] else { Issue.record("third is malformed"); return }
        #expect(id3 == nil)
        guard case .update(let u4) = elements[3] else { Issue.record("an update without a message is fine"); return }
        #expect(u4.message == nil)
    }

    @Test func commandMenuUsesTopLevelWords() {
        let registry = CommandRegistry([
            CommandDeclaration(words: ["ping"], summary: "alive?"),
            CommandDeclaration(words: ["pg", "connections"], summary: "c"),
            CommandDeclaration(words: ["pg", "idle"], summary: "i"),
            CommandDeclaration(words: ["help"], summary: "help me"),
            CommandDeclaration(words: ["vacuum-stats"], summary: "not a Telegram name"),
        ])
        let menu = TelegramCommandMenu.commands(from: registry)
        #expect(menu.map(\.command) == ["help", "ping", "pg"])
        #expect(menu[2].description == "Subcommands: connections, idle")
    }
}
