import Foundation
import TriageCore

/// A failure talking to PostgreSQL. `description` is safe to post (no passwords, no
/// connection strings); `debugDescription` adds the server's detail for logs.
public struct PostgresError: PresentableError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public static let connection = Code(raw: "connection")
        public static let query = Code(raw: "query")
        public static let timeout = Code(raw: "timeout")
        public static let cancelled = Code(raw: "cancelled")
        /// The server did not answer within Triage's own deadline (frozen host, lost network).
        public static let deadline = Code(raw: "deadline")
        public var description: String { raw }
    }

    public var code: Code
    /// The target's name.
    public var target: String
    /// The server's message (primary text only).
    public var message: String
    /// SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// Detail and hint from the server, for logs.
    public var detail: String?
    public var file: String
    public var line: Int

    public init(_ code: Code, target: String, message: String, sqlState: String? = nil, detail: String? = nil,
                file: String = #fileID, line: Int = #line) {
        self.code = code
        self.target = target
        self.message = PostgresError.redact(message)
        self.sqlState = sqlState
        self.detail = detail.map(PostgresError.redact)
        self.file = file
        self.line = line
    }

    public var description: String {
        switch code {
        case .connection:
            return "Database '\(target)' is unreachable: \(message)"
        case .timeout:
            return "Database '\(target)': the query was cancelled after the statement timeout (\(message))."
        case .cancelled:
            return "Database '\(target)': the query was cancelled."
        case .deadline:
            return "Database '\(target)' did not answer: \(message). Triage gave up waiting and keeps answering; "
                + "check the server (frozen, overloaded or unreachable) before retrying."
        default:
            if sqlState == "42501" {
                return "Database '\(target)': needs a grant: \(message) (docs/security.md lists what each command needs)"
            }
            return "Database '\(target)' error" + (sqlState.map { " \($0)" } ?? "") + ": \(message)"
        }
    }

    public var debugDescription: String {
        description + (detail.map { " detail: \($0)" } ?? "") + " (\(file):\(line))"
    }

    /// Removes anything that looks like a password from a libpq or server message.
    static func redact(_ text: String) -> String {
        Redaction.redact(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whether the error means the connection is gone (and a reconnect may help).
    public var isConnectionLoss: Bool {
        code == .connection || (sqlState?.hasPrefix("08") ?? false) || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }
}

extension PostgresError: ServerDetailed {
    public var serverDetail: String? { detail }
}
