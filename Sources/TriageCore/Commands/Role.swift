/// What a person may do. Roles are ordered: each includes the ones below it.
public enum Role: Int, Comparable, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// Reads diagnostics, incident state and help.
    case viewer = 1
    /// Changes incidents and pages people.
    case responder = 2
    /// Runs actions that change the database.
    case `operator` = 3

    public init?(name: String) {
        switch name.lowercased() {
        case "viewer": self = .viewer
        case "responder": self = .responder
        case "operator": self = .operator
        default: return nil
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .viewer: "viewer"
        case .responder: "responder"
        case .operator: "operator"
        }
    }
}
