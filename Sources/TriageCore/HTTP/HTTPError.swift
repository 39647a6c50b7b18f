
/// A transfer that did not produce an HTTP response. `description` never contains the URL
/// (bot tokens live in Telegram URLs).
public struct HTTPError: PresentableError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public static let network = Code(raw: "network")
        public static let timeout = Code(raw: "timeout")
        public static let cancelled = Code(raw: "cancelled")
        public static let invalidRequest = Code(raw: "invalid request")
        public var description: String { raw }
    }

    public var code: Code
    /// libcurl's message for the failure.
    public var message: String
    /// The host, for logs (no path, no query, no credentials).
    public var host: String

    public init(_ code: Code, message: String, host: String) {
        self.code = code
        self.message = message
        self.host = host
    }

    public var description: String { "HTTP \(code) talking to \(host): \(message)" }
}
