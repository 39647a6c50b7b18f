import Foundation

/// The body of a redaction: an optional reason.
struct RedactRequest: Encodable {
    var reason: String?
}

extension MatrixClient {
    /// Redacts `eventID` in `roomID` (`PUT /rooms/{roomId}/redact/{eventId}/{txnId}`): the
    /// bot's own seeded reactions once a decision was made. The txnId makes a retry redact once.
    public func redact(roomID: String, eventID: String, txnID: String, reason: String? = nil) async throws {
        let path = "/rooms/\(Self.pathEscaped(roomID))/redact/\(Self.pathEscaped(eventID))/\(Self.pathEscaped(txnID))"
        _ = try await call("PUT", path, body: RedactRequest(reason: reason), operation: "redact", as: MatrixAPI.SendResponse.self)
    }
}
