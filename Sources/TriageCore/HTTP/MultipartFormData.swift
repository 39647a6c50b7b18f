import Foundation

/// A `multipart/form-data` body (RFC 7578): text fields and file parts, for uploads such as
/// Telegram's `sendDocument`. Field values and file names are written as given; names and
/// file names must not contain `"` or line breaks (they are replaced).
public struct MultipartFormData: Sendable {
    public let boundary: String
    private var body = Data()

    public init(boundary: String = "triage-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()) {
        self.boundary = boundary
    }

    /// The `Content-Type` header value.
    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Adds a text field.
    public mutating func field(_ name: String, _ value: String) {
        part(headers: "Content-Disposition: form-data; name=\"\(Self.clean(name))\"", data: Data(value.utf8))
    }

    /// Adds a file part.
    public mutating func file(_ name: String, fileName: String, mimeType: String, data: Data) {
        part(headers: "Content-Disposition: form-data; name=\"\(Self.clean(name))\"; filename=\"\(Self.clean(fileName))\"\r\n"
             + "Content-Type: \(Self.clean(mimeType))", data: data)
    }

    /// The finished body.
    public var data: Data {
        var out = body
        out.append(Data("--\(boundary)--\r\n".utf8))
        return out
    }

    private mutating func part(headers: String, data: Data) {
        body.append(Data("--\(boundary)\r\n\(headers)\r\n\r\n".utf8))
        body.append(data)
        body.append(Data("\r\n".utf8))
    }

    static func clean(_ s: String) -> String {
        String(s.map { $0 == "\"" ? "'" : ($0 == "\r" || $0 == "\n" ? " " : $0) })
    }
}
