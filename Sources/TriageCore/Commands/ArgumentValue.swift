/// A checked argument value.
public enum ArgumentValue: Equatable, Sendable, Codable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    /// A duration in whole seconds.
    case duration(Int)
    case boolean(Bool)

    /// The value as a SQL parameter (text form that PostgreSQL casts: durations become
    /// `N seconds`, usable as `$1::interval`).
    public var sqlParameter: String {
        switch self {
        case .string(let s): s
        case .integer(let i): String(i)
        case .duration(let s): "\(s) seconds"
        case .boolean(let b): b ? "true" : "false"
        }
    }

    public var description: String {
        switch self {
        case .string(let s): s
        case .integer(let i): String(i)
        case .duration(let s): DurationFormatter.format(seconds: Double(s))
        case .boolean(let b): b ? "yes" : "no"
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .integer(let i), .duration(let i): i
        default: nil
        }
    }
}

/// The arguments of one invocation, checked against the declaration.
public struct BoundArguments: Equatable, Sendable, Codable {
    public var values: [String: ArgumentValue]

    public init(_ values: [String: ArgumentValue] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> ArgumentValue? { values[name] }

    public func string(_ name: String) -> String? { values[name]?.stringValue }
    public func int(_ name: String) -> Int? { values[name]?.intValue }
    public func flag(_ name: String) -> Bool {
        if case .boolean(true) = values[name] { return true }
        return false
    }
}
