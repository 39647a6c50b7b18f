/// One token of a command line after quoting has been resolved.
public struct CommandToken: Equatable, Sendable {
    /// The token's text, without quotes.
    public var text: String
    /// Whether the token was quoted (a quoted `--x` is a value, never a flag).
    public var quoted: Bool

    public init(_ text: String, quoted: Bool = false) {
        self.text = text
        self.quoted = quoted
    }

    /// Whether this token names a flag (`--name` or `--name=value`).
    public var isFlag: Bool { !quoted && text.hasPrefix("--") && text.count > 2 }
}

/// A chat line split into its command name and tokens, before it is matched to a declaration.
public struct ParsedCommand: Equatable, Sendable {
    /// The command name, lowercased, without the leading `/` or `@bot` suffix.
    public var name: String
    /// The bot named in `/cmd@BotName`, if any.
    public var botName: String?
    /// Everything after the command name.
    public var tokens: [CommandToken]
    /// The normalised line as typed.
    public var line: String

    public init(name: String, botName: String? = nil, tokens: [CommandToken], line: String) {
        self.name = name
        self.botName = botName
        self.tokens = tokens
        self.line = line
    }
}
