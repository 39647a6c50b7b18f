/// Splits a chat line into a command name and tokens.
///
/// Grammar: `/command sub args --flag value --flag=value "quoted text" 'single quoted'`.
/// `/cmd@BotName` is accepted; names are case-insensitive; a backslash escapes the next
/// character inside double quotes.
public struct CommandLineParser: Sendable {
    /// Characters that start a command (`/` everywhere, `!` as well for Matrix habits).
    public var prefixes: Set<Character>

    public init(prefixes: Set<Character> = ["/"]) {
        self.prefixes = prefixes
    }

    /// Whether `line` looks like a command at all (starts with a command prefix and a letter).
    public func isCommand(_ line: String) -> Bool {
        let trimmed = TextNormalizer.normalize(line).drop { $0 == " " || $0 == "\n" }
        guard let first = trimmed.first, prefixes.contains(first) else { return false }
        guard let second = trimmed.dropFirst().first else { return false }
        return second.isLetter
    }

    /// Parses `line`.
    /// - Parameter line: the message text as typed.
    /// - Returns: the command, or throws ``UsageError`` with a clear message.
    public func parse(_ line: String) throws -> ParsedCommand {
        // PostgreSQL text and C strings end at NUL: a NUL would silently cut a note or an
        // argument, so the line is refused whole. Other control characters are kept as typed.
        if line.unicodeScalars.contains("\u{0}") {
            throw UsageError(.syntax, "The message contains a NUL character (U+0000), which cannot be stored or passed to the database; nothing was run. Send it again without it.")
        }
        let normalized = TextNormalizer.normalize(line).trimmingSpaces()
        guard let first = normalized.first, prefixes.contains(first) else {
            throw UsageError(.syntax, "Commands start with /, for example /help.")
        }
        guard let second = normalized.dropFirst().first, second.isLetter else {
            throw UsageError(.syntax, "Missing command name after \(first). Try /help.")
        }
        let tokens = try tokenize(String(normalized.dropFirst()))
        guard let head = tokens.first, !head.text.isEmpty, !head.quoted else {
            throw UsageError(.syntax, "Missing command name after /. Try /help.")
        }
        var name = head.text
        var bot: String?
        if let at = name.firstIndex(of: "@") {
            bot = String(name[name.index(after: at)...])
            name = String(name[..<at])
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw UsageError(.syntax, "'\(name.prefix(40))' is not a command name. Try /help.")
        }
        return ParsedCommand(name: name.lowercased(), botName: bot, tokens: Array(tokens.dropFirst()), line: normalized)
    }

    func tokenize(_ text: String) throws -> [CommandToken] {
        var tokens: [CommandToken] = []
        var current = ""
        var inToken = false
        var quoted = false
        var quote: Character?
        var iterator = text.makeIterator()
        while let ch = iterator.next() {
            if let q = quote {
                if ch == q {
                    quote = nil
                } else if ch == "\\" && q == "\"" {
                    if let next = iterator.next() { current.append(next) }
                } else {
                    current.append(ch)
                }
                continue
            }
            if ch == " " || ch == "\n" || ch == "\r" {
                if inToken {
                    tokens.append(CommandToken(current, quoted: quoted))
                    current = ""
                    inToken = false
                    quoted = false
                }
            } else if ch == "\"" || ch == "'" {
                // An apostrophe inside a word (don't) is just a letter.
                if ch == "'" && inToken && !current.isEmpty {
                    current.append(ch)
                    continue
                }
                quote = ch
                quoted = true
                inToken = true
            } else {
                current.append(ch)
                inToken = true
            }
        }
        if quote != nil {
            throw UsageError(.syntax, "Unterminated quote: close it with \(quote!).")
        }
        if inToken { tokens.append(CommandToken(current, quoted: quoted)) }
        return tokens
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
