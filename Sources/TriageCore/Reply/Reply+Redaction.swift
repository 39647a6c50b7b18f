extension Reply {
    /// The reply with ``Redaction/redact(_:)`` applied to every text in it. Every renderer
    /// calls this before formatting, so no platform can post a secret.
    public func redacted() -> Reply {
        let r = Redaction.redact
        return Reply(title: title.map(r), blocks: blocks.map { $0.redacted() }, mark: mark, summary: summary.map(r), buttons: buttons,
                     attachments: attachments?.map { ReplyAttachment(fileName: $0.fileName, mimeType: $0.mimeType, content: r($0.content)) })
    }
}

extension ReplyBlock {
    /// The block with every text redacted.
    public func redacted() -> ReplyBlock {
        let r = Redaction.redact
        switch self {
        case .text(let s): return .text(r(s))
        case .note(let s, let m): return .note(r(s), m)
        case .code(let s): return .code(r(s))
        case .keyValues(let kvs): return .keyValues(kvs.map { KeyValue(r($0.key), r($0.value), mark: $0.mark) })
        case .table(let t):
            // A copy keeps every other property of the table (unclipped, …).
            var copy = t
            copy.title = t.title.map(r)
            copy.columns = t.columns.map(r)
            copy.rows = t.rows.map { $0.map { cell in var c = cell; c.text = r(cell.text); return c } }
            copy.emptyText = t.emptyText.map(r)
            return .table(copy)
        }
    }
}
