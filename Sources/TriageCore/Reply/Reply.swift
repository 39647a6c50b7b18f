/// A reply as a platform-neutral document; renderers turn it into terminal text, Telegram
/// HTML or Matrix HTML.
public struct Reply: Codable, Sendable, Equatable {
    public var title: String?
    public var blocks: [ReplyBlock]
    /// The most severe mark in the reply; set by the builder, shown next to the title.
    public var mark: Mark
    /// One line for the incident timeline ("12 idle sessions older than 10m").
    public var summary: String?
    /// Buttons under the reply, in rows (Telegram inline keyboards, Matrix reactions); nil
    /// for none. Platforms without buttons ignore them: every button has a typed equivalent.
    public var buttons: [[ReplyButton]]?
    /// Files that go with the reply (uploaded where the platform takes files); nil for none.
    public var attachments: [ReplyAttachment]?

    public init(title: String? = nil, blocks: [ReplyBlock] = [], mark: Mark = .none, summary: String? = nil,
                buttons: [[ReplyButton]]? = nil, attachments: [ReplyAttachment]? = nil) {
        self.title = title
        self.blocks = blocks
        self.mark = mark
        self.summary = summary
        self.buttons = buttons
        self.attachments = attachments
    }

    /// A reply of a single line of text.
    public static func text(_ text: String, mark: Mark = .none) -> Reply {
        Reply(blocks: [.text(text)], mark: mark, summary: text.split(separator: "\n").first.map(String.init))
    }

    /// The worst mark of any block or cell.
    public var worstMark: Mark {
        blocks.reduce(mark) { max($0, $1.worstMark) }
    }
}

/// One block of a reply.
public enum ReplyBlock: Codable, Sendable, Equatable {
    /// A paragraph of text.
    case text(String)
    /// A paragraph with a mark (warning, critical, ok).
    case note(String, Mark)
    /// Aligned `key: value` lines.
    case keyValues([KeyValue])
    /// A table with a header row.
    case table(ReplyTable)
    /// Preformatted text (SQL, plans).
    case code(String)

    public var worstMark: Mark {
        switch self {
        case .text, .code: .none
        case .note(_, let m): m
        case .keyValues(let kvs): kvs.map(\.mark).max() ?? .none
        case .table(let t): t.rows.flatMap { $0 }.map(\.mark).max() ?? .none
        }
    }
}

/// A `key: value` pair, possibly flagged.
public struct KeyValue: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    public var mark: Mark

    public init(_ key: String, _ value: String, mark: Mark = .none) {
        self.key = key
        self.value = value
        self.mark = mark
    }
}

/// A table cell: text and a mark.
public struct ReplyCell: Codable, Sendable, Equatable, ExpressibleByStringLiteral {
    public var text: String
    public var mark: Mark

    public init(_ text: String, mark: Mark = .none) {
        self.text = text
        self.mark = mark
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }
}

/// A table: title, column headers, rows; numbers are right-aligned.
public struct ReplyTable: Codable, Sendable, Equatable {
    public var title: String?
    public var columns: [String]
    /// Which columns hold numbers (right-aligned).
    public var numeric: [Bool]
    public var rows: [[ReplyCell]]
    /// Shown when there are no rows.
    public var emptyText: String?
    /// Cells are never cut short in text (command lists and summaries in /help and /runbook).
    public var unclipped: Bool?

    public init(title: String? = nil, columns: [String], numeric: [Bool]? = nil, rows: [[ReplyCell]], emptyText: String? = nil) {
        self.title = title
        self.columns = columns
        self.numeric = numeric ?? columns.map { _ in false }
        self.rows = rows
        self.emptyText = emptyText
    }
}
