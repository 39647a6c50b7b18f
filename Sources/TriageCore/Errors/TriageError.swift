/// A failure inside Triage that can be shown in a chat room (its `description` holds no secrets).
public struct TriageError: PresentableError {
    /// The broad kind of failure; new codes do not break callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public init(_ raw: String) { self.raw = raw }
        public static let database = Code("database")
        public static let databaseUnavailable = Code("database unavailable")
        public static let timeout = Code("timeout")
        public static let forbidden = Code("forbidden")
        public static let notFound = Code("not found")
        public static let conflict = Code("conflict")
        public static let config = Code("config")
        public static let http = Code("http")
        public var description: String { raw }
    }

    public var code: Code
    /// Safe to post in a room.
    public var message: String
    /// For logs only: may hold details such as SQLSTATE or the failing statement.
    public var detail: String?
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, detail: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.detail = detail
        self.file = file
        self.line = line
    }

    public var description: String { message }
    public var debugDescription: String {
        "\(code): \(message)" + (detail.map { " [\($0)]" } ?? "") + " (\(file):\(line))"
    }
}
