import Foundation
import Logging
import Synchronization
import TriageChat
import TriageCore

/// The client-server API calls Triage makes, over libcurl: login, whoami, sync, join, send.
///
/// Every call carries `Authorization: Bearer`. When the homeserver answers 401
/// `M_UNKNOWN_TOKEN`, the client logs in again once (same device) and repeats the call; if
/// the fresh token is rejected too, or there is no password to log in with, it throws
/// ``FatalPlatformError``.
public final class MatrixClient: Sendable {
    let http: any HTTPTransport
    let homeserver: String
    let userID: String
    let password: String?
    let deviceName: String
    let logger: Logger
    /// The session, behind one lock.
    struct Session {
        var token: String?
        var device: String?
        /// True from a re-login until a call succeeds with the new token.
        var freshLogin = false
    }
    private let session: Mutex<Session>

    /// - Parameters:
    ///   - http: the libcurl client (one per platform).
    ///   - homeserver: base URL without a trailing slash.
    ///   - userID: the bot's user id (for login and logs).
    ///   - password: for `m.login.password`; nil when only an access token is given.
    ///   - accessToken: a token to start with (from the environment), if any.
    public init(http: any HTTPTransport, homeserver: String, userID: String, password: String?, accessToken: String?,
                deviceName: String = "Triage", logger: Logger) {
        self.http = http
        self.homeserver = homeserver
        self.userID = userID
        self.password = password
        self.session = Mutex(Session(token: accessToken))
        self.deviceName = deviceName
        self.logger = logger
    }

    /// The device this client is logged in as.
    public var deviceID: String? { session.withLock { s in s.device } }
    /// Whether there is an access token to call with.
    public var isReady: Bool { session.withLock { s in s.token != nil } }

    // MARK: Session

    /// Logs in with the password as `deviceID` (a new device when nil) and keeps the token.
    /// - Returns: the device id the homeserver confirmed.
    @discardableResult
    public func login(deviceID: String?) async throws -> String {
        guard let password else {
            throw FatalPlatformError(platform: "matrix", message: "no password configured (password_env) to log in as \(userID)")
        }
        let body = MatrixAPI.LoginRequest(identifier: .init(user: userID), password: password,
                                          initialDeviceDisplayName: deviceName, deviceID: deviceID)
        let response = try await http.send(.json("POST", url("/login"), body: try MatrixJSON.encode(body)))
        guard response.status == 200 else {
            let error = MatrixError(response: response.status, headers: response.headers, body: response.body, operation: "login")
            if error.isRateLimited || error.isServerError { throw error }
            throw FatalPlatformError(platform: "matrix",
                                     message: "cannot log in as \(userID): \(error.status) \(error.errcode) \(error.message) (check user_id and the password in password_env)")
        }
        let json = try Self.decode(MatrixAPI.Session.self, response.body, operation: "login")
        guard let newToken = json.accessToken, let newDevice = json.deviceID else {
            throw MatrixError(status: response.status, errcode: "M_BAD_JSON", message: "login answer without access_token or device_id", operation: "login")
        }
        session.withLock { s in
            s.token = newToken
            s.device = newDevice
        }
        logger.info("matrix login", metadata: ["matrix.user": "\(userID)", "matrix.device": "\(newDevice)"])
        return newDevice
    }

    /// Checks the token from the environment: `/account/whoami` → the device id, if the
    /// homeserver tells it.
    public func whoami() async throws -> (userID: String, deviceID: String?) {
        let json = try await call("GET", "/account/whoami", operation: "whoami", as: MatrixAPI.Session.self)
        let device = json.deviceID
        session.withLock { s in s.device = device ?? s.device }
        return (json.userID ?? "", device)
    }

    // MARK: Calls

    /// One `/sync` long-poll.
    /// - Parameters:
    ///   - since: the stored `next_batch`; nil for the first (snapshot) sync.
    ///   - timeout: milliseconds the homeserver may wait for new events.
    ///   - filter: an inline JSON filter.
    public func sync(since: String?, timeout: Int, filter: String) async throws -> MatrixSync {
        var query = [("timeout", String(timeout)), ("filter", filter)]
        if let since { query.append(("since", since)) }
        // The homeserver answers at the long-poll timeout; a few seconds later the call is hung.
        // The first sync (timeout 0) may take a while to assemble, so it gets the usual 30 s.
        let deadline = timeout > 0 ? Double(timeout) / 1000 + Self.syncGrace : 30
        return try await call("GET", "/sync", query: query, timeout: deadline, operation: "sync", as: MatrixSync.self)
    }

    /// Seconds past the sync timeout after which a `/sync` that has not answered is taken as hung.
    public static let syncGrace: Double = 4

    /// One page of a room's history, newest first (`dir=b`): from `from` (a sync's
    /// `prev_batch`, or the previous page's `end`) back to `to` (the `since` of the sync that
    /// was limited), only `m.room.message` events.
    func messages(roomID: String, from: String, to: String?, limit: Int) async throws -> MatrixAPI.MessagesPage {
        var query = [("dir", "b"), ("from", from), ("limit", String(limit)), ("filter", #"{"types":["m.room.message"]}"#)]
        if let to { query.append(("to", to)) }
        return try await call("GET", "/rooms/\(Self.pathEscaped(roomID))/messages", query: query, operation: "messages",
                              as: MatrixAPI.MessagesPage.self)
    }

    /// Joins a room the bot was invited to.
    public func join(roomID: String) async throws {
        _ = try await call("POST", "/rooms/\(Self.pathEscaped(roomID))/join", body: MatrixAPI.Empty(), operation: "join",
                           as: MatrixJSON.AnyObject.self)
    }

    /// Sends one event; the same `txnID` (on the same device) is delivered once.
    /// - Returns: the event id.
    @discardableResult
    public func send(roomID: String, type: String = "m.room.message", txnID: String, content: MatrixEventContent) async throws -> String {
        let path = "/rooms/\(Self.pathEscaped(roomID))/send/\(Self.pathEscaped(type))/\(Self.pathEscaped(txnID))"
        let json = try await call("PUT", path, body: content, operation: "send", as: MatrixAPI.SendResponse.self)
        return json.eventID ?? ""
    }

    /// Uploads a file to the media repository (`POST /_matrix/media/v3/upload`, raw body).
    /// - Returns: its `content_uri` (`mxc://…`).
    public func upload(_ data: Data, fileName: String, contentType: String) async throws -> String {
        guard let used = session.withLock({ s in s.token }) else {
            throw MatrixError(status: 401, errcode: "M_MISSING_TOKEN", message: "not logged in yet", operation: "upload")
        }
        let url = homeserver + "/_matrix/media/v3/upload?filename=" + Self.queryEscaped(fileName)
        let request = HTTPRequest(method: "POST", url: url, headers: [("Authorization", "Bearer \(used)"), ("Content-Type", contentType)],
                                  body: data, timeout: 60)
        let response = try await http.send(request)
        guard (200..<300).contains(response.status) else {
            throw MatrixError(response: response.status, headers: response.headers, body: response.body, operation: "upload")
        }
        guard let uri = try Self.decode(MatrixAPI.UploadResponse.self, response.body, operation: "upload").contentURI,
              uri.hasPrefix("mxc://") else {
            throw MatrixError(status: response.status, errcode: "M_BAD_JSON", message: "upload answer without content_uri", operation: "upload")
        }
        return uri
    }

    /// An authorized call with one re-login on `M_UNKNOWN_TOKEN`.
    func call<Response: Decodable>(_ method: String, _ path: String, query: [(String, String)] = [],
                                   body: (any Encodable)? = nil, timeout: Double = 30, operation: String,
                                   as: Response.Type) async throws -> Response {
        var relogged = false
        while true {
            guard let used = session.withLock({ s in s.token }) else {
                throw MatrixError(status: 401, errcode: "M_MISSING_TOKEN", message: "not logged in yet", operation: operation)
            }
            var request = HTTPRequest(method: method, url: url(path, query: query),
                                      headers: [("Authorization", "Bearer \(used)")], timeout: timeout)
            if let body {
                request.body = try MatrixJSON.encode(body)
                request.headers.append(("Content-Type", "application/json"))
            }
            let response = try await http.send(request)
            if (200..<300).contains(response.status) {
                session.withLock { s in s.freshLogin = false }
                return try Self.decode(Response.self, response.body, operation: operation)
            }
            let error = MatrixError(response: response.status, headers: response.headers, body: response.body, operation: operation)
            guard error.isUnknownToken else { throw error }
            // Another call may already have logged in again: just retry with the new token.
            let (current, fresh) = session.withLock { s in (s.token, s.freshLogin) }
            if current != used, current != nil, !relogged {
                relogged = true
                continue
            }
            if relogged || fresh {
                throw FatalPlatformError(platform: "matrix",
                                         message: "the homeserver rejected the access token of \(userID) again right after a fresh login (\(error.errcode)); is the account deactivated?")
            }
            guard password != nil else {
                throw FatalPlatformError(platform: "matrix",
                                         message: "the homeserver rejected the access token of \(userID) (\(error.errcode)) and no password_env is configured to log in again; set a new token")
            }
            logger.warning("matrix access token rejected; logging in again", metadata: ["matrix.user": "\(userID)", "matrix.errcode": "\(error.errcode)"])
            let deviceID = session.withLock { s in s.device }
            try await login(deviceID: deviceID)
            session.withLock { s in s.freshLogin = true }
            relogged = true
        }
    }

    func url(_ path: String, query: [(String, String)] = []) -> String {
        var s = homeserver + "/_matrix/client/v3" + path
        if !query.isEmpty {
            s += "?" + query.map { "\($0.0)=\(Self.queryEscaped($0.1))" }.joined(separator: "&")
        }
        return s
    }

    /// An answer body; every answer type checks that the body is a JSON object.
    static func decode<T: Decodable>(_ type: T.Type, _ data: Data, operation: String) throws -> T {
        guard let json = try? MatrixJSON.decode(type, from: data) else {
            throw MatrixError(status: 200, errcode: "M_BAD_JSON", message: "the homeserver's answer is not a JSON object", operation: operation)
        }
        return json
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// A path segment: everything but unreserved characters percent-encoded (`!`, `$`, `:` too).
    static func pathEscaped(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s
    }

    static func queryEscaped(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s
    }
}
