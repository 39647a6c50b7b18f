/// How a value or a whole reply should be flagged.
public enum Mark: Int, Codable, Sendable, Comparable {
    case none = 0
    case ok = 1
    case warning = 2
    case critical = 3

    public static func < (lhs: Mark, rhs: Mark) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A short ASCII tag for plain text (`[WARN]`).
    public var tag: String {
        switch self {
        case .none: ""
        case .ok: "[OK]"
        case .warning: "[WARN]"
        case .critical: "[CRIT]"
        }
    }

    /// A symbol for chat platforms that render emoji.
    public var symbol: String {
        switch self {
        case .none: ""
        case .ok: "\u{2705}"
        case .warning: "\u{26A0}\u{FE0F}"
        case .critical: "\u{1F534}"
        }
    }
}
