/// All declared commands, and the matching of typed lines to them.
public struct CommandRegistry: Sendable {
    public private(set) var declarations: [CommandDeclaration] = []
    /// Every name and alias, longest first, with its declaration: sorted once per change,
    /// not per command.
    private var namesLongestFirst: [([String], CommandDeclaration)] = []

    public init(_ declarations: [CommandDeclaration] = []) {
        for d in declarations { register(d) }
    }

    /// Adds a declaration; a later one with the same name replaces the earlier.
    public mutating func register(_ declaration: CommandDeclaration) {
        declarations.removeAll { $0.words == declaration.words }
        declarations.append(declaration)
        reindex()
    }

    /// Adds a declaration unless one of its names or aliases is taken.
    /// - Returns: the declaration already holding the name, or nil when added.
    public mutating func add(_ declaration: CommandDeclaration) -> CommandDeclaration? {
        let names = [declaration.words] + declaration.aliases
        if let taken = declarations.first(where: { d in names.contains { $0 == d.words || d.aliases.contains($0) } }) {
            return taken
        }
        declarations.append(declaration)
        reindex()
        return nil
    }

    private mutating func reindex() {
        namesLongestFirst = declarations.flatMap { d in ([d.words] + d.aliases).map { ($0, d) } }
            .sorted { $0.0.count > $1.0.count }
    }

    /// The declaration named exactly `name` ("pg connections").
    public func declaration(named name: String) -> CommandDeclaration? {
        let words = name.lowercased().split(separator: " ").map(String.init)
        return declarations.first { $0.words == words || $0.aliases.contains(words) }
    }

    /// Matches a parsed line to a declaration and checks its arguments.
    /// - Throws: ``UsageError`` with suggestions or the usage line.
    public func resolve(_ parsed: ParsedCommand) throws -> (CommandDeclaration, BoundArguments) {
        let typed = [parsed.name] + parsed.tokens.prefix(3).map { $0.quoted ? "\u{0}" : $0.text.lowercased() }
        for (words, declaration) in namesLongestFirst where words.count <= typed.count {
            if Array(typed.prefix(words.count)) == words {
                let rest = Array(parsed.tokens.dropFirst(words.count - 1))
                return (declaration, try bind(rest, to: declaration))
            }
        }
        throw unknown(typed: typed)
    }

    private func unknown(typed: [String]) -> UsageError {
        let group = declarations.filter { $0.words.count > 1 && $0.words[0] == typed[0] }
        if !group.isEmpty {
            let sub = typed.count > 1 ? typed[1] : ""
            let subs = group.map { $0.words.dropFirst().joined(separator: " ") }
            if sub.isEmpty || sub.hasPrefix("-") {
                return UsageError(.unknownCommand, "/\(typed[0]) needs a subcommand: " + subs.sorted().joined(separator: ", ") + ".")
            }
            let close = Suggester.closest(to: sub, among: subs).map { "\(typed[0]) \($0)" }
            return UsageError(.unknownCommand, "Unknown command /\(typed[0]) \(sub).",
                              suggestions: close.isEmpty ? [] : close)
        }
        let candidates = Set(declarations.flatMap { d in ([d.words] + d.aliases).map { $0.joined(separator: " ") } })
        let firstWords = Set(candidates.map { String($0.split(separator: " ")[0]) })
        var close = Suggester.closest(to: typed[0], among: Array(firstWords))
        if close.isEmpty, typed.count > 1 {
            close = Suggester.closest(to: typed[0] + " " + typed[1], among: Array(candidates))
        }
        return UsageError(.unknownCommand, "Unknown command /\(typed[0]).",
                          suggestions: close.isEmpty ? ["help"] : close)
    }

    /// Checks `tokens` against the declaration's arguments.
    public func bind(_ tokens: [CommandToken], to declaration: CommandDeclaration) throws -> BoundArguments {
        var values: [String: ArgumentValue] = [:]
        var positionals = declaration.arguments.filter { !$0.isFlag }
        var index = 0
        func fail(_ message: String) -> UsageError {
            UsageError(.badArgument, message, usage: declaration.usage)
        }
        while index < tokens.count {
            let token = tokens[index]
            if token.isFlag {
                var flagName = String(token.text.dropFirst(2))
                var inline: String?
                if let eq = flagName.firstIndex(of: "=") {
                    inline = String(flagName[flagName.index(after: eq)...])
                    flagName = String(flagName[..<eq])
                }
                flagName = flagName.lowercased()
                guard let arg = declaration.arguments.first(where: { $0.isFlag && $0.name == flagName }) else {
                    let flags = declaration.arguments.filter(\.isFlag).map(\.name)
                    let close = Suggester.closest(to: flagName, among: flags)
                    return try { throw fail("Unknown option --\(flagName)" + (close.isEmpty ? "." : "; did you mean --\(close[0])?")) }()
                }
                if arg.type == .boolean {
                    if let inline {
                        guard let b = Self.parseBool(inline) else { throw fail("--\(arg.name) takes yes or no, not '\(inline)'.") }
                        values[arg.name] = .boolean(b)
                    } else {
                        values[arg.name] = .boolean(true)
                    }
                    index += 1
                    continue
                }
                let raw: String
                if let inline {
                    raw = inline
                    index += 1
                } else {
                    guard index + 1 < tokens.count, !tokens[index + 1].isFlag else {
                        throw fail("--\(arg.name) needs a value (\(arg.type.placeholder)).")
                    }
                    raw = tokens[index + 1].text
                    index += 2
                }
                values[arg.name] = try Self.convert(raw, for: arg, fail: fail)
                continue
            }
            guard !positionals.isEmpty else {
                throw fail("Unexpected argument '\(token.text.prefix(60))'.")
            }
            let arg = positionals.removeFirst()
            if arg.type == .text {
                let rest = tokens[index...].map(\.text).joined(separator: " ")
                values[arg.name] = .string(rest)
                index = tokens.count
            } else {
                values[arg.name] = try Self.convert(token.text, for: arg, fail: fail)
                index += 1
            }
        }
        for arg in declaration.arguments where values[arg.name] == nil {
            if let def = arg.defaultValue {
                values[arg.name] = try Self.convert(def, for: arg, fail: fail)
            } else if arg.isRequired {
                throw fail("Missing \(arg.isFlag ? "--" + arg.name : arg.name.uppercased()).")
            } else if arg.type == .boolean {
                values[arg.name] = .boolean(false)
            }
        }
        return BoundArguments(values)
    }

    static func parseBool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "yes", "true", "on", "1": true
        case "no", "false", "off", "0": false
        default: nil
        }
    }

    static func convert(_ raw: String, for arg: ArgumentDeclaration, fail: (String) -> UsageError) throws -> ArgumentValue {
        let label = arg.isFlag ? "--\(arg.name)" : arg.name.uppercased()
        switch arg.type {
        case .string, .text:
            guard raw.count <= 4000 else { throw fail("\(label) is too long.") }
            return .string(raw)
        case .identifier:
            guard !raw.isEmpty, raw.count <= 200 else { throw fail("\(label) must be a name of at most 200 characters.") }
            return .string(raw)
        case .integer(let min, let max):
            guard let value = Int(raw) else { throw fail("\(label) must be a whole number, not '\(raw.prefix(40))'.") }
            guard value >= min, value <= max else { throw fail("\(label) must be between \(min) and \(max).") }
            return .integer(value)
        case .duration:
            guard let seconds = DurationParser.seconds(raw) else {
                throw fail("\(label) must be a duration like 30s, 10m, 2h or 1d, not '\(raw.prefix(40))'.")
            }
            return .duration(seconds)
        case .choice(let words):
            let lower = raw.lowercased()
            guard words.contains(lower) else {
                throw fail("\(label) must be one of \(words.joined(separator: ", ")), not '\(raw.prefix(40))'.")
            }
            return .string(lower)
        case .boolean:
            guard let b = parseBool(raw) else { throw fail("\(label) takes yes or no.") }
            return .boolean(b)
        }
    }
}
