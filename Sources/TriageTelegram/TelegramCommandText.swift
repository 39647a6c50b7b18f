/// The command in a Telegram message, found through its `bot_command` entity.
///
/// Entity offsets count UTF-16 code units, so they are applied to `text.utf16`, never to
/// Swift characters (an emoji before the command shifts them).
public struct TelegramCommandText: Sendable, Equatable {
    /// `/pg connections --limit 5`: the command word without the `@bot` mention, then the rest.
    public var line: String
    /// The bot named in `/cmd@Bot`, if any.
    public var mention: String?

    public init(line: String, mention: String?) {
        self.line = line
        self.mention = mention
    }

    /// Finds the first `bot_command` entity that only has spaces or symbols (no letters or
    /// digits) before it, so "I ran /pg idle" is chat and "🔥 /pg idle" is a command.
    public static func find(text: String, entities: [TelegramUpdate.Entity]) -> TelegramCommandText? {
        let units = Array(text.utf16)
        // Offsets and lengths come from the network: compared without adding them, so values
        // near Int.max cannot overflow.
        guard let entity = entities.filter({ $0.type == "bot_command" }).min(by: { $0.offset < $1.offset }),
              entity.offset >= 0, entity.offset <= units.count, entity.length > 1,
              entity.length <= units.count - entity.offset else { return nil }
        let before = String(decoding: units[0..<entity.offset], as: UTF16.self)
        guard !before.contains(where: { $0.isLetter || $0.isNumber }) else { return nil }
        let command = String(decoding: units[entity.offset..<(entity.offset + entity.length)], as: UTF16.self)
        guard command.hasPrefix("/") else { return nil }
        let rest = String(decoding: units[(entity.offset + entity.length)...], as: UTF16.self)
        var word = command
        var mention: String?
        if let at = command.firstIndex(of: "@") {
            mention = String(command[command.index(after: at)...])
            word = String(command[..<at])
        }
        return TelegramCommandText(line: word + rest, mention: mention)
    }
}
