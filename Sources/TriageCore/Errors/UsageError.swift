/// A problem with what someone typed: unknown command, bad argument, missing value.
public struct UsageError: PresentableError, Equatable {
    /// What kind of usage problem this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public static let unknownCommand = Code(raw: "unknown command")
        public static let badArgument = Code(raw: "bad argument")
        public static let syntax = Code(raw: "syntax")
        public var description: String { raw }
    }

    public var code: Code
    /// The message, safe to post.
    public var message: String
    /// The usage line of the command concerned, when there is one.
    public var usage: String?
    /// Commands the person may have meant.
    public var suggestions: [String]

    public init(_ code: Code, _ message: String, usage: String? = nil, suggestions: [String] = []) {
        self.code = code
        self.message = message
        self.usage = usage
        self.suggestions = suggestions
    }

    public var description: String {
        var text = message
        if !suggestions.isEmpty {
            text += " Did you mean " + suggestions.map { "/\($0)" }.joined(separator: ", ") + "?"
        }
        if let usage { text += "\nusage: \(usage)" }
        return text
    }
}
