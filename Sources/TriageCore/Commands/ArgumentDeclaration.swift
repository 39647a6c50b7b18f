/// The type of a command argument; values are checked before anything runs.
public enum ArgumentType: Equatable, Sendable, Codable {
    /// Free text without spaces (or quoted).
    case string
    /// Free text: the rest of the line, spaces included.
    case text
    /// A whole number within bounds.
    case integer(min: Int, max: Int)
    /// A duration such as `90s`, `10m`, `2h`, `1d`, `1h30m`; bound as seconds.
    case duration
    /// One of a fixed set of words.
    case choice([String])
    /// An on/off flag that takes no value.
    case boolean
    /// A database object name (table, index), checked against the catalog where it is used.
    case identifier

    /// The placeholder shown in usage lines.
    public var placeholder: String {
        switch self {
        case .string, .text: "TEXT"
        case .integer: "N"
        case .duration: "DURATION"
        case .choice(let words): words.joined(separator: "|")
        case .boolean: ""
        case .identifier: "NAME"
        }
    }
}

/// One argument a command takes: a positional word or a `--flag`.
public struct ArgumentDeclaration: Equatable, Sendable, Codable {
    public var name: String
    public var type: ArgumentType
    /// `true` for `--name value`, `false` for a positional argument.
    public var isFlag: Bool
    public var isRequired: Bool
    /// The default, written as a user would type it.
    public var defaultValue: String?
    public var help: String

    public init(name: String, type: ArgumentType, isFlag: Bool = false, isRequired: Bool = false,
                defaultValue: String? = nil, help: String = "") {
        self.name = name
        self.type = type
        self.isFlag = isFlag
        self.isRequired = isRequired
        self.defaultValue = defaultValue
        self.help = help
    }

    /// How this argument appears in the usage line.
    public var usage: String {
        let core: String
        if isFlag {
            core = type == .boolean ? "--\(name)" : "--\(name) \(type.placeholder)"
        } else {
            core = placeholderName
        }
        return isRequired ? core : "[\(core)]"
    }

    var placeholderName: String {
        if case .choice = type { return type.placeholder }
        return name.uppercased()
    }
}
