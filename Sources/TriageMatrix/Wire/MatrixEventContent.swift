import Foundation

/// The `content` of the events Triage reads and sends: `m.room.message` (text, notice, file),
/// `m.reaction` (an `m.annotation`), and edits (`m.replace` with `m.new_content`). Absent
/// fields are left out when encoded; fields of the wrong type read as absent.
public struct MatrixEventContent: Codable, Sendable, Equatable {
    public var msgtype: String?
    public var body: String?
    public var format: String?
    public var formattedBody: String?
    /// `m.file`: the file's name, its `mxc://` URI and info.
    public var filename: String?
    public var url: String?
    public var info: MatrixFileInfo?
    public var relatesTo: MatrixRelation?
    /// An edit's new content (`m.replace`).
    public var newContent: MatrixNewContent?

    enum CodingKeys: String, CodingKey {
        case msgtype, body, format, formattedBody = "formatted_body", filename, url, info
        case relatesTo = "m.relates_to", newContent = "m.new_content"
    }

    public init(msgtype: String? = nil, body: String? = nil, format: String? = nil, formattedBody: String? = nil,
                filename: String? = nil, url: String? = nil, info: MatrixFileInfo? = nil,
                relatesTo: MatrixRelation? = nil, newContent: MatrixNewContent? = nil) {
        self.msgtype = msgtype
        self.body = body
        self.format = format
        self.formattedBody = formattedBody
        self.filename = filename
        self.url = url
        self.info = info
        self.relatesTo = relatesTo
        self.newContent = newContent
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        msgtype = c.string(.msgtype)
        body = c.string(.body)
        format = c.string(.format)
        formattedBody = c.string(.formattedBody)
        filename = c.string(.filename)
        url = c.string(.url)
        info = c.lenient(MatrixFileInfo.self, forKey: .info)
        relatesTo = c.lenient(MatrixRelation.self, forKey: .relatesTo)
        newContent = c.lenient(MatrixNewContent.self, forKey: .newContent)
    }
}

/// `info` of an `m.file` event.
public struct MatrixFileInfo: Codable, Sendable, Equatable {
    public var mimetype: String?
    public var size: Int?

    public init(mimetype: String?, size: Int?) {
        self.mimetype = mimetype
        self.size = size
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mimetype = c.string(.mimetype)
        size = c.lenient(Int.self, forKey: .size)
    }
}

/// `m.new_content` of an edit: the message as it now reads.
public struct MatrixNewContent: Codable, Sendable, Equatable {
    public var msgtype: String?
    public var body: String?
    public var format: String?
    public var formattedBody: String?

    enum CodingKeys: String, CodingKey {
        case msgtype, body, format, formattedBody = "formatted_body"
    }

    public init(_ content: MatrixEventContent) {
        msgtype = content.msgtype
        body = content.body
        format = content.format
        formattedBody = content.formattedBody
    }

    /// Reads the same fields, as leniently, as ``MatrixEventContent``.
    public init(from decoder: any Decoder) throws {
        self.init(try MatrixEventContent(from: decoder))
    }
}
