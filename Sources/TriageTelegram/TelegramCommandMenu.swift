import TriageCore

/// The `setMyCommands` list generated from the command declarations.
///
/// Telegram command names are one word (`[a-z0-9_]{1,32}`), so multi-word commands are
/// registered by their first word (`pg`, `incident`) with their subcommands in the description.
public enum TelegramCommandMenu {
    /// At most 100 commands, `help` first; words Telegram cannot take are left out.
    public static func commands(from registry: CommandRegistry) -> [TelegramAPI.BotCommand] {
        var order: [String] = []
        var byWord: [String: [CommandDeclaration]] = [:]
        for d in registry.declarations {
            guard let first = d.words.first, isValid(first) else { continue }
            if byWord[first] == nil { order.append(first) }
            byWord[first, default: []].append(d)
        }
        if let i = order.firstIndex(of: "help") { order.remove(at: i); order.insert("help", at: 0) }
        return order.prefix(100).map { word in
            let decls = byWord[word]!
            let description: String
            if decls.count == 1, decls[0].words.count == 1 {
                description = decls[0].summary
            } else {
                let subs = decls.map { $0.words.dropFirst().joined(separator: " ") }.filter { !$0.isEmpty }
                let own = decls.first { $0.words.count == 1 }.map { $0.summary + " " } ?? ""
                description = own + "Subcommands: " + subs.joined(separator: ", ")
            }
            return TelegramAPI.BotCommand(command: word, description: clip(description.isEmpty ? word : description))
        }
    }

    static func isValid(_ word: String) -> Bool {
        (1...32).contains(word.count) && word.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func clip(_ s: String) -> String {
        s.count <= 256 ? s : String(s.prefix(255)) + "…"
    }
}
