import Foundation

/// One label matcher as people type it: `name=value`, `name!=value`, `name=~regex`,
/// `name!~regex` (the value may be double-quoted). Used for silences, `filter=` and routes.
public struct LabelMatcher: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case regex = "=~"
        case notRegex = "!~"

        public var isRegex: Bool { self == .regex || self == .notRegex }
        public var isEqual: Bool { self == .equal || self == .regex }
    }

    public var name: String
    public var op: Operator
    public var value: String
    /// The anchored regex, for regex operators.
    let compiled: Pattern?

    public init(name: String, op: Operator, value: String) throws {
        guard Self.isLabelName(name) else { throw MatcherError.badName(name) }
        guard value.utf8.count <= 1024 else { throw MatcherError.tooLong(name) }
        self.name = name
        self.op = op
        self.value = value
        compiled = op.isRegex ? try Pattern(value) : nil
    }

    public init(_ m: AMMatcher) throws {
        let op: Operator = m.isRegex ? (m.isEqual ? .regex : .notRegex) : (m.isEqual ? .equal : .notEqual)
        try self.init(name: m.name, op: op, value: m.value)
    }

    /// Parses `name<op>value`; nil when `text` does not start like a matcher at all.
    public static func parse(_ text: String) throws -> LabelMatcher? {
        let chars = Array(text)
        var i = 0
        while i < chars.count, chars[i].isASCII, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { i += 1 }
        guard i > 0, i < chars.count else { return nil }
        let name = String(chars[..<i])
        let op: Operator
        let rest = String(chars[i...])
        if rest.hasPrefix("=~") { op = .regex } else if rest.hasPrefix("!~") { op = .notRegex }
        else if rest.hasPrefix("!=") { op = .notEqual } else if rest.hasPrefix("=") { op = .equal } else { return nil }
        var value = String(rest.dropFirst(op.rawValue.count))
        if value.hasPrefix("\"") {
            guard value.count >= 2, value.hasSuffix("\"") else { throw MatcherError.badQuote(name) }
            value = Self.unescape(String(value.dropFirst().dropLast()))
        }
        return try LabelMatcher(name: name, op: op, value: value)
    }

    /// Whether `labels` satisfy the matcher (a missing label is the empty string, as in Alertmanager).
    public func matches(_ labels: LabelSet) -> Bool {
        let v = labels[name] ?? ""
        switch op {
        case .equal: return v == value
        case .notEqual: return v != value
        case .regex: return compiled?.matches(v) ?? false
        case .notRegex: return !(compiled?.matches(v) ?? false)
        }
    }

    /// The API form.
    public var api: AMMatcher { AMMatcher(name: name, value: value, isRegex: op.isRegex, isEqual: op.isEqual) }

    /// `name="value"`: the form of Alertmanager's `filter=` parameter and of replies.
    public var description: String { "\(name)\(op.rawValue)\"\(Self.escape(value))\"" }

    public static func == (a: LabelMatcher, b: LabelMatcher) -> Bool { a.name == b.name && a.op == b.op && a.value == b.value }
    public func hash(into h: inout Hasher) { h.combine(name); h.combine(op); h.combine(value) }

    static func isLabelName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, s.utf8.count <= 128 else { return false }
        guard first == "_" || (first.isASCII && CharacterSet.letters.contains(first)) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func unescape(_ s: String) -> String {
        var out = ""
        var escaping = false
        for c in s {
            if escaping {
                out.append(c == "n" ? "\n" : c)
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// An anchored regular expression (Alertmanager anchors matcher regexes: `^(?:…)$`).
    struct Pattern: Sendable {
        let regex: NSRegularExpression

        init(_ source: String) throws {
            do {
                regex = try NSRegularExpression(pattern: "^(?:\(source))$")
            } catch {
                throw MatcherError.badRegex(source)
            }
        }

        func matches(_ s: String) -> Bool {
            regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }
    }
}

public enum MatcherError: Error, Equatable, CustomStringConvertible {
    case badName(String)
    case badQuote(String)
    case badRegex(String)
    case tooLong(String)

    public var description: String {
        switch self {
        case .badName(let n): "'\(n.prefix(40))' is not a label name (letters, digits, _)"
        case .badQuote(let n): "the value of \(n) has an unclosed quote"
        case .badRegex(let r): "'\(r.prefix(60))' is not a valid regular expression"
        case .tooLong(let n): "the value of \(n) is too long"
        }
    }
}
