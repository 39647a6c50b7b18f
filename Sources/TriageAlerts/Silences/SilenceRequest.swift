import Foundation
import TriageCore

/// `/silence` as typed: matchers (or `#ref` of an announced alert), a duration, a comment.
/// Parsing is all or nothing: any bad part is a usage error and nothing is sent.
public struct SilenceRequest: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case matchers([LabelMatcher])
        /// The short reference of an announced alert: silence exactly its labels.
        case alert(ref: String)
    }

    public var target: Target
    public var seconds: Int
    public var comment: String?

    public static let usage = "/silence NAME=VALUE [NAME!=VALUE NAME=~REGEX NAME!~REGEX …] DURATION [\"comment\"]  or  /silence #REF DURATION [\"comment\"]"

    public init(target: Target, seconds: Int, comment: String?) {
        self.target = target
        self.seconds = seconds
        self.comment = comment
    }

    /// Parses the text after `/silence`. `replyingTo` is the text of the message this one
    /// replies to: with no matchers and no #REF typed, the alert it names is silenced.
    public static func parse(_ text: String, minSeconds: Int, maxSeconds: Int, replyingTo: String? = nil) throws -> SilenceRequest {
        let tokens = try tokenize(text)
        var matchers: [LabelMatcher] = []
        var ref: String?
        var seconds: Int?
        var comment: [String] = []
        for t in tokens {
            if !t.startedQuoted, t.text.hasPrefix("#"), ref == nil, matchers.isEmpty, seconds == nil {
                let r = String(t.text.dropFirst()).lowercased()
                guard (4...64).contains(r.count), r.allSatisfy(\.isHexDigit) else {
                    throw bad("'\(t.text.prefix(20))' is not an alert reference (# and the hex shown in the alert message)")
                }
                ref = r
                continue
            }
            if !t.startedQuoted, seconds == nil {
                do {
                    if let m = try LabelMatcher.parse(t.text) {
                        guard ref == nil else { throw bad("give either #REF or matchers, not both") }
                        matchers.append(m)
                        continue
                    }
                } catch let e as MatcherError {
                    throw bad(e.description)
                }
                if let s = DurationParser.seconds(t.text), !t.text.allSatisfy(\.isNumber) {
                    seconds = s
                    continue
                }
                throw bad("'\(t.text.prefix(40))' is neither a matcher (name=value) nor a duration (2h)")
            }
            guard seconds != nil else { throw bad("the comment goes after the duration") }
            comment.append(t.text)
        }
        if ref == nil, matchers.isEmpty, let replied = replyingTo {
            let refs = Set(alertRefs(in: replied))
            guard refs.count == 1 else {
                throw bad(refs.isEmpty ? "the message you replied to is not an alert" : "the message you replied to names \(refs.count) alerts; reply to one alert's message or give its #REF")
            }
            ref = refs.first
        }
        guard ref != nil || !matchers.isEmpty else { throw bad("name at least one matcher (alertname=…) or an alert #REF, or reply to an alert's message") }
        guard let seconds else { throw bad("give a duration, e.g. 2h") }
        guard seconds >= minSeconds, seconds <= maxSeconds else {
            throw bad("the duration must be between \(DurationFormatter.format(seconds: Double(minSeconds))) and \(DurationFormatter.format(seconds: Double(maxSeconds)))")
        }
        if !matchers.isEmpty, matchers.allSatisfy({ $0.matches([:]) }) {
            throw bad("at least one matcher must not match an empty label (Alertmanager's rule), e.g. alertname=…")
        }
        let c = comment.joined(separator: " ").trimmingCharacters(in: .whitespaces)
        guard c.count <= 500 else { throw bad("the comment is longer than 500 characters") }
        return SilenceRequest(target: ref.map { .alert(ref: $0) } ?? .matchers(matchers), seconds: seconds,
                              comment: c.isEmpty ? nil : c)
    }

    /// The `#ref`s (8 hex digits) in an alert message's text.
    public static func alertRefs(in text: String) -> [String] {
        var refs: [String] = []
        var rest = Substring(text)
        while let hash = rest.firstIndex(of: "#") {
            let after = rest[rest.index(after: hash)...]
            let hex = after.prefix { $0.isHexDigit }
            let next = after.dropFirst(hex.count).first
            if hex.count == 8, next.map({ !$0.isLetter && !$0.isNumber }) ?? true { refs.append(hex.lowercased()) }
            rest = after
        }
        return refs
    }

    static func bad(_ message: String) -> UsageError {
        UsageError(.badArgument, "Silence not created: \(message).", usage: usage)
    }

    struct Token: Equatable {
        var text: String
        var startedQuoted: Bool
    }

    /// Splits at spaces outside quotes. A token that starts with a quote is a comment word
    /// (quotes dropped, `\"` unescaped); a double quote inside a token (`name=~"a|b"`) is kept
    /// for ``LabelMatcher/parse(_:)``.
    static func tokenize(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        var current = ""
        var inToken = false
        var startedQuoted = false
        var quote: Character?
        var midQuote = false
        var escaping = false
        for ch in text {
            if let q = quote {
                if escaping {
                    current.append(ch)
                    escaping = false
                } else if ch == "\\" {
                    escaping = true
                    if midQuote { current.append(ch) }
                } else if ch == q {
                    quote = nil
                    if midQuote { current.append(ch) }
                } else {
                    current.append(ch)
                }
                continue
            }
            if ch == " " || ch == "\n" || ch == "\t" {
                if inToken { tokens.append(Token(text: current, startedQuoted: startedQuoted)) }
                current = ""
                inToken = false
                startedQuoted = false
            } else if !inToken && (ch == "\"" || ch == "'") {
                startedQuoted = true
                inToken = true
                quote = ch
                midQuote = false
            } else if inToken && ch == "\"" {
                quote = ch
                midQuote = true
                current.append(ch)
            } else {
                current.append(ch)
                inToken = true
            }
        }
        if quote != nil { throw bad("a quote is not closed") }
        if inToken { tokens.append(Token(text: current, startedQuoted: startedQuoted)) }
        return tokens
    }
}
