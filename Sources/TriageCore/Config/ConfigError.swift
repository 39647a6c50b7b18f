/// A problem in a configuration or runbook file, with the file and line where it is.
public struct ConfigError: PresentableError, Equatable {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        "\(file)" + (line.map { ":\($0)" } ?? "") + ": " + Redaction.redact(message)
    }
}
