/// A file that goes with a reply (a postmortem's Markdown and SVG): platforms that take files
/// upload it (Telegram `sendDocument`, Matrix media upload + `m.file`) with the reply's
/// summary as the caption; the terminal shows the reply as it is.
public struct ReplyAttachment: Codable, Sendable, Equatable {
    /// The file name shown in the room (`incident-3-postmortem.md`).
    public var fileName: String
    /// `text/markdown`, `image/svg+xml`.
    public var mimeType: String
    /// The file's text (UTF-8).
    public var content: String

    public init(fileName: String, mimeType: String, content: String) {
        self.fileName = fileName
        self.mimeType = mimeType
        self.content = content
    }
}

extension Reply {
    /// A caption for the reply's files: the title and its first facts, at most `limit` characters.
    public func caption(limit: Int = 1024) -> String {
        var lines = [title ?? summary ?? ""]
        for block in blocks {
            if case .keyValues(let kvs) = block {
                lines += kvs.prefix(6).map { "\($0.key): \($0.value)" }
                break
            }
        }
        return String(lines.joined(separator: "\n").prefix(limit))
    }
}
