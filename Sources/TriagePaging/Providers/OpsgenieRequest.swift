import Foundation

/// Opsgenie Alert API v2 request bodies, as documented.
enum OpsgenieRequest {
    /// `POST /v2/alerts`: create an alert.
    struct CreateAlert: Encodable, Equatable {
        /// At most 130 characters.
        var message: String
        /// The key later calls name the alert by (`identifierType=alias`); at most 512 characters.
        var alias: String
        var description: String
        var responders: [Responder]
        /// `P1` … `P5`.
        var priority: String
        var details: [String: String]
        var source: String
        var tags: [String]
    }

    /// A responder: a user by id, or by username (their e-mail).
    struct Responder: Encodable, Equatable {
        var type = "user"
        var id: String?
        var username: String?
    }

    /// `POST /v2/alerts/{alias}/acknowledge` and `/close`.
    struct AlertAction: Encodable, Equatable {
        var user: String
        var source: String
        var note: String
    }
}
