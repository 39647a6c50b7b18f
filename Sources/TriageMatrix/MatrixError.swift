import Foundation
import TriageCore

/// An error answer from the homeserver: `{"errcode":"M_…","error":"…"}` with its HTTP status.
/// `description` never contains a URL or token.
public struct MatrixError: PresentableError {
    /// The HTTP status.
    public var status: Int
    /// The Matrix error code (`M_LIMIT_EXCEEDED`, `M_UNKNOWN_TOKEN`, …); `M_UNKNOWN` when absent.
    public var errcode: String
    /// The homeserver's message.
    public var message: String
    /// Seconds to wait before retrying (429: `retry_after_ms` or the `Retry-After` header).
    public var retryAfter: Double?
    /// What was being done (`sync`, `login`, `send`).
    public var operation: String

    public init(status: Int, errcode: String, message: String, retryAfter: Double? = nil, operation: String) {
        self.status = status
        self.errcode = errcode
        self.message = message
        self.retryAfter = retryAfter
        self.operation = operation
    }

    /// Reads an error response. Any body (HTML from a proxy, wrong types, huge numbers) gives
    /// an error; only a usable `retry_after_ms` is taken.
    public init(response status: Int, headers: [String: String], body: Data, operation: String) {
        let json = try? MatrixJSON.decode(Body.self, from: body)
        self.status = status
        self.errcode = json?.errcode ?? "M_UNKNOWN"
        self.message = json?.error.map { String($0.prefix(300)) } ?? "HTTP \(status)"
        self.operation = operation
        var retry = json?.retryAfterMs.map { $0 / 1000 }
        if retry == nil, let header = headers["retry-after"], let seconds = Double(header.trimmingCharacters(in: .whitespaces)) {
            retry = seconds
        }
        // From the network: NaN, negative or huge values become a sane wait (at most an hour).
        self.retryAfter = retry.map { $0.isFinite ? min(max($0, 0), 3600) : 1 } ?? (status == 429 ? 1 : nil)
    }

    /// `{"errcode", "error", "retry_after_ms"}`, the wait also under `data` (older homeservers).
    struct Body: Decodable {
        var errcode: String?
        var error: String?
        var retryAfterMs: Double?

        enum CodingKeys: String, CodingKey { case errcode, error, retryAfterMs = "retry_after_ms", data }
        enum DataKeys: String, CodingKey { case retryAfterMs = "retry_after_ms" }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            errcode = c.string(.errcode)
            error = c.string(.error)
            let data = try? c.nestedContainer(keyedBy: DataKeys.self, forKey: .data)
            retryAfterMs = c.lenient(Double.self, forKey: .retryAfterMs) ?? data?.lenient(Double.self, forKey: .retryAfterMs)
        }
    }

    /// 401 `M_UNKNOWN_TOKEN`: the access token is no longer valid.
    public var isUnknownToken: Bool { errcode == "M_UNKNOWN_TOKEN" || (status == 401 && errcode == "M_MISSING_TOKEN") }
    /// 429 `M_LIMIT_EXCEEDED`.
    public var isRateLimited: Bool { status == 429 || errcode == "M_LIMIT_EXCEEDED" }
    /// 413 `M_TOO_LARGE`: the event (or request body) is over the homeserver's limit.
    public var isTooLarge: Bool { status == 413 || errcode == "M_TOO_LARGE" }
    /// 5xx, or the homeserver's reverse proxy saying it is not there.
    public var isServerError: Bool { status >= 500 }

    public var description: String { "Matrix \(operation) failed: \(status) \(errcode): \(message)" }
}
