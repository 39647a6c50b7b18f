import Foundation

/// The request and answer bodies of the client-server API calls Triage makes (other than
/// `/sync`, see ``MatrixSync``, and event contents, see ``MatrixEventContent``).
enum MatrixAPI {
    /// `POST /login` with `m.login.password`.
    struct LoginRequest: Encodable {
        struct Identifier: Encodable {
            var type = "m.id.user"
            var user: String
        }
        var type = "m.login.password"
        var identifier: Identifier
        var password: String
        var initialDeviceDisplayName: String
        var deviceID: String?

        enum CodingKeys: String, CodingKey {
            case type, identifier, password, initialDeviceDisplayName = "initial_device_display_name", deviceID = "device_id"
        }
    }

    /// The answer to `/login` (token and device) and to `/account/whoami` (user and device).
    struct Session: Decodable {
        var userID: String?
        var accessToken: String?
        var deviceID: String?

        enum CodingKeys: String, CodingKey { case userID = "user_id", accessToken = "access_token", deviceID = "device_id" }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            userID = c.string(.userID)
            accessToken = c.string(.accessToken)
            deviceID = c.string(.deviceID)
        }
    }

    /// The answer to a `PUT …/send/…`.
    struct SendResponse: Decodable {
        var eventID: String?

        enum CodingKeys: String, CodingKey { case eventID = "event_id" }

        init(from decoder: any Decoder) throws {
            eventID = try decoder.container(keyedBy: CodingKeys.self).string(.eventID)
        }
    }

    /// The answer to a media upload.
    struct UploadResponse: Decodable {
        var contentURI: String?

        enum CodingKeys: String, CodingKey { case contentURI = "content_uri" }

        init(from decoder: any Decoder) throws {
            contentURI = try decoder.container(keyedBy: CodingKeys.self).string(.contentURI)
        }
    }

    /// One page of `/rooms/{id}/messages`: events newest first (`dir=b`) and the token of the next page.
    struct MessagesPage: Decodable {
        var chunk: [MatrixEvent]
        var end: String?

        enum CodingKeys: String, CodingKey { case chunk, end }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            chunk = c.lenientArray(MatrixEvent.self, forKey: .chunk).elements
            end = c.string(.end)
        }
    }

    /// An empty request body (`POST …/join`).
    struct Empty: Encodable {}

    /// The inline `/sync` filter.
    struct SyncFilter: Encodable {
        struct Types: Encodable {
            var types: [String] = []
        }
        struct Timeline: Encodable {
            var types: [String]
            var notSenders: [String]
            var limit: Int

            enum CodingKeys: String, CodingKey { case types, notSenders = "not_senders", limit }
        }
        struct Room: Encodable {
            var timeline: Timeline
            var state = Types()
            var ephemeral = Types()
            var accountData = Types()

            enum CodingKeys: String, CodingKey { case timeline, state, ephemeral, accountData = "account_data" }
        }
        var room: Room
        var presence = Types()
        var accountData = Types()

        enum CodingKeys: String, CodingKey { case room, presence, accountData = "account_data" }
    }
}
