import Yams

/// A YAML node with the file it came from, for reading config with file:line errors.
public struct YAMLNode {
    public let node: Node
    public let file: String
    /// Dotted path of keys to this node, for messages (`commands[2].sql`).
    public let path: String

    public init(node: Node, file: String, path: String = "") {
        self.node = node
        self.file = file
        self.path = path
    }

    /// Parses `text` as one YAML document.
    /// - Throws: ``ConfigError`` with the line of the syntax error.
    public static func parse(_ text: String, file: String) throws -> YAMLNode {
        do {
            guard let node = try Yams.compose(yaml: text, .basic) else {
                throw ConfigError(file: file, line: 1, message: "the file is empty")
            }
            return YAMLNode(node: node, file: file)
        } catch let error as ConfigError {
            throw error
        } catch let error as YamlError {
            throw ConfigError(file: file, line: Self.line(of: error, in: text), message: "YAML syntax: " + Self.problem(of: error))
        } catch {
            // Never the error's description: parsers quote the offending line, which may hold a secret.
            throw ConfigError(file: file, line: nil, message: "cannot read YAML (\(type(of: error)))")
        }
    }

    static func line(of error: YamlError, in text: String) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        case .duplicatedKeysInMapping(_, let context): context.mark.line
        case .reader(_, let offset?, _, _):
            // The offset counts characters; lines are counted up to it.
            text.prefix(offset).reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
        default: nil
        }
    }

    /// The problem in words, without the snippet of the file that Yams' descriptions quote
    /// (the line may hold a password or a token).
    static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let c, let p, _, _), .parser(let c, let p, _, _), .composer(let c, let p, _, _):
            return (c.map { $0.text + ": " } ?? "") + p
        case .reader(let p, _, _, _), .writer(let p), .emitter(let p), .representer(let p):
            return p
        case .duplicatedKeysInMapping(let d, _):
            return "duplicate keys: " + d.joined(separator: ", ")
        case .dataCouldNotBeDecoded:
            return "the file is not UTF-8"
        case .no, .memory:
            return "the YAML reader failed"
        }
    }

    /// The 1-based line of this node.
    public var line: Int? { node.mark?.line }

    /// An error at this node.
    public func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, message: (path.isEmpty ? "" : "\(path): ") + message)
    }

    public var isMapping: Bool { node.mapping != nil }

    /// The keys of a mapping node, in file order.
    public var keys: [String] {
        node.mapping?.keys.compactMap(\.string) ?? []
    }

    /// The value under `key`, if present.
    public subscript(key: String) -> YAMLNode? {
        // By the key's text: Yams' own lookup builds a node and compares resolved tags per key.
        guard case .mapping(let mapping) = node else { return nil }
        var found: Node?
        for pair in mapping where pair.key.scalar?.string == key { found = pair.value }
        guard let child = found else { return nil }
        if child.null != nil { return nil }
        return YAMLNode(node: child, file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    /// Throws when the mapping has keys other than `allowed` (catches typos in config).
    public func checkKeys(_ allowed: Set<String>) throws {
        guard let mapping = node.mapping else { throw error("expected a mapping") }
        for (k, _) in mapping {
            guard let name = k.string else { throw error("keys must be strings") }
            if !allowed.contains(name) {
                let close = Suggester.closest(to: name, among: Array(allowed), limit: 1)
                throw ConfigError(file: file, line: k.mark?.line,
                                  message: (path.isEmpty ? "" : "\(path): ") + "unknown key '\(name)'" + (close.isEmpty ? "" : " (did you mean '\(close[0])'?)"))
            }
        }
    }

    public func required(_ key: String) throws -> YAMLNode {
        guard let n = self[key] else { throw error("missing required key '\(key)'") }
        return n
    }

    public func string() throws -> String {
        guard case .scalar(let s) = node else { throw error("expected a text value") }
        return s.string
    }

    public func int() throws -> Int {
        guard let i = node.int else { throw error("expected a whole number") }
        return i
    }

    public func double() throws -> Double {
        guard let d = node.float ?? node.int.map(Double.init) else { throw error("expected a number") }
        return d
    }

    public func bool() throws -> Bool {
        guard let b = node.bool else { throw error("expected true or false") }
        return b
    }

    public func list() throws -> [YAMLNode] {
        guard let seq = node.sequence else { throw error("expected a list") }
        return seq.enumerated().map { i, n in YAMLNode(node: n, file: file, path: "\(path)[\(i)]") }
    }

    /// A list of strings; a single string is accepted as a list of one.
    public func strings() throws -> [String] {
        if case .scalar = node { return [try string()] }
        return try list().map { try $0.string() }
    }

    /// The entries of a mapping, in file order.
    public func entries() throws -> [(String, YAMLNode)] {
        guard let mapping = node.mapping else { throw error("expected a mapping") }
        return try mapping.map { k, v in
            guard let key = k.string else { throw error("keys must be strings") }
            return (key, YAMLNode(node: v, file: file, path: path.isEmpty ? key : "\(path).\(key)"))
        }
    }

    public func string(_ key: String) throws -> String? { try self[key]?.string() }
    public func int(_ key: String) throws -> Int? { try self[key]?.int() }
    public func double(_ key: String) throws -> Double? { try self[key]?.double() }
    public func bool(_ key: String) throws -> Bool? { try self[key]?.bool() }
}
// @unchecked: a parsed node is never mutated after parsing; Yams.Node is a value without Sendable.
extension YAMLNode: @unchecked Sendable {}
