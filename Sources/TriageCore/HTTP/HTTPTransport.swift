/// Sends HTTP requests: libcurl's ``HTTPClient`` in the running bot, one per process, shared
/// by every platform and paging provider.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the response (any status). Throws ``HTTPError`` when no
    /// response arrived and `CancellationError` when the calling task was cancelled.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
