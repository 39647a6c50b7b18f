import Foundation

/// An HTTP request for ``HTTPClient``.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header fields in order; never logged (they may carry tokens).
    public var headers: [(String, String)]
    public var body: Data?
    /// Seconds for the whole transfer (long polls: the poll timeout plus a margin).
    public var timeout: Double
    /// Seconds to establish the connection.
    public var connectTimeout: Double

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: Data? = nil,
                timeout: Double = 30, connectTimeout: Double = 10) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    /// A request with a JSON body.
    public static func json(_ method: String, _ url: String, body: Data, headers: [(String, String)] = [],
                            timeout: Double = 30) -> HTTPRequest {
        HTTPRequest(method: method, url: url, headers: [("Content-Type", "application/json")] + headers,
                    body: body, timeout: timeout)
    }
}

/// An HTTP response: status, headers (names lowercased), body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}
