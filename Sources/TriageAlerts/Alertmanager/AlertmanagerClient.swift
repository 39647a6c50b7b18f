import Foundation
import TriageCore

/// A failure talking to Alertmanager. The description names the host, never the whole URL
/// (it may carry basic-auth credentials).
public struct AlertmanagerError: PresentableError, Equatable {
    public enum Kind: Sendable, Equatable {
        /// No HTTP response (refused, timeout, DNS).
        case unreachable
        /// An HTTP error status.
        case status(Int)
        /// A 2xx whose body is not what the API documents.
        case badResponse
    }

    public var kind: Kind
    public var host: String
    public var message: String

    public init(_ kind: Kind, host: String, message: String) {
        self.kind = kind
        self.host = host
        self.message = message
    }

    public var description: String {
        switch kind {
        case .unreachable: "Alertmanager at \(host) is unreachable: \(message)"
        case .status(let code): "Alertmanager at \(host) answered \(code): \(message)"
        case .badResponse: "Alertmanager at \(host) sent an unexpected response: \(message)"
        }
    }
}

/// Alertmanager's API v2 over the shared libcurl client. One or more base URLs (an HA pair):
/// reads go to each and are merged by fingerprint; writes go to the first that answers.
public struct AlertmanagerClient: Sendable {
    public let urls: [String]
    let http: any HTTPTransport
    /// Sent as `filter=` (Alertmanager applies them before answering).
    public var filter: [LabelMatcher]
    /// Sent as `receiver=` (a regex over receiver names).
    public var receiver: String?
    public var timeout: Double

    public init(urls: [String], http: any HTTPTransport, filter: [LabelMatcher] = [], receiver: String? = nil, timeout: Double = 10) {
        self.urls = urls.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.http = http
        self.filter = filter
        self.receiver = receiver
        self.timeout = timeout
    }

    // MARK: Alerts

    /// `GET /api/v2/alerts/groups` from one Alertmanager.
    public func groups(from base: String) async throws -> [AMAlertGroup] {
        try await get(base, "/api/v2/alerts/groups", query: alertQuery())
    }

    /// `GET /api/v2/alerts` from one Alertmanager.
    public func alerts(from base: String) async throws -> [AMAlert] {
        try await get(base, "/api/v2/alerts", query: alertQuery())
    }

    /// `POST /api/v2/alerts` (what Prometheus does; tests and the benchmark feed alerts this way).
    public func post(alerts: [AMPostableAlert], to base: String) async throws {
        let body = try AMJSON.encoder().encode(alerts)
        _ = try await send(HTTPRequest.json("POST", base + "/api/v2/alerts", body: body, timeout: timeout), host: Self.host(base))
    }

    /// When one Alertmanager started (`GET /api/v2/status`, field `uptime`).
    public func startTime(of base: String) async throws -> Date {
        struct Status: Decodable { var uptime: Date }
        let status: Status = try await get(base, "/api/v2/status", query: [])
        return status.uptime
    }

    func alertQuery() -> [(String, String)] {
        var q = filter.map { ("filter", $0.description) }
        if let receiver { q.append(("receiver", receiver)) }
        return q
    }

    // MARK: Silences

    /// Creates a silence on the first Alertmanager that answers (HA peers share silences by
    /// gossip); returns its id. A 4xx is final: the next peer would refuse it too.
    public func createSilence(_ silence: AMPostableSilence) async throws -> String {
        let body = try AMJSON.encoder().encode(silence)
        var last: Error = AlertmanagerError(.unreachable, host: "-", message: "no Alertmanager configured")
        for base in urls {
            do {
                let response = try await send(HTTPRequest.json("POST", base + "/api/v2/silences", body: body, timeout: timeout),
                                              host: Self.host(base))
                guard let created = try? AMJSON.decoder().decode(AMSilenceCreated.self, from: response.body), !created.silenceID.isEmpty else {
                    throw AlertmanagerError(.badResponse, host: Self.host(base), message: "no silenceID in the answer")
                }
                return created.silenceID
            } catch let e as AlertmanagerError {
                if case .status(let code) = e.kind, (400..<500).contains(code) { throw e }
                last = e
            }
        }
        throw last
    }

    /// Every silence known to any Alertmanager, deduplicated by id (the latest update wins).
    /// Throws only when none answered.
    public func silences() async throws -> [AMSilence] {
        var byID: [String: AMSilence] = [:]
        var answered = false
        var last: Error?
        for base in urls {
            do {
                let list: [AMSilence] = try await get(base, "/api/v2/silences", query: [])
                answered = true
                for s in list where byID[s.id].map({ $0.updatedAt < s.updatedAt }) ?? true { byID[s.id] = s }
            } catch {
                last = error
            }
        }
        if !answered, let last { throw last }
        return byID.values.sorted { ($0.endsAt, $0.id) < ($1.endsAt, $1.id) }
    }

    /// Expires a silence (`DELETE /api/v2/silence/{id}`) on every Alertmanager that answers;
    /// throws when none accepted it.
    public func expireSilence(id: String) async throws {
        guard Self.isSilenceID(id) else {
            throw AlertmanagerError(.status(400), host: "-", message: "not a silence id")
        }
        var done = false
        var last: Error?
        for base in urls {
            do {
                _ = try await send(HTTPRequest(method: "DELETE", url: base + "/api/v2/silence/" + id, timeout: timeout), host: Self.host(base))
                done = true
            } catch {
                last = error
            }
        }
        if !done, let last { throw last }
    }

    /// Alertmanager's silence ids are UUIDs.
    public static func isSilenceID(_ s: String) -> Bool {
        s.count == 36 && s.allSatisfy { $0 == "-" || $0.isHexDigit }
    }

    // MARK: Transport

    func get<T: Decodable>(_ base: String, _ path: String, query: [(String, String)]) async throws -> T {
        var url = base + path
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        }
        let host = Self.host(base)
        let response = try await send(HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")], timeout: timeout), host: host)
        do {
            return try AMJSON.decoder().decode(T.self, from: response.body)
        } catch {
            throw AlertmanagerError(.badResponse, host: host, message: "\(T.self) did not decode")
        }
    }

    func send(_ request: HTTPRequest, host: String) async throws -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch let e as HTTPError {
            throw AlertmanagerError(.unreachable, host: host, message: "\(e.code): \(e.message)")
        }
        guard (200..<300).contains(response.status) else {
            let text = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
            throw AlertmanagerError(.status(response.status), host: host, message: String(text.prefix(200)))
        }
        return response
    }

    static func percentEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// `host:port` of a base URL, without scheme, credentials or path.
    public static func host(_ base: String) -> String {
        var s = Substring(base)
        if let r = s.range(of: "://") { s = s[r.upperBound...] }
        if let slash = s.firstIndex(of: "/") { s = s[..<slash] }
        if let at = s.lastIndex(of: "@") { s = s[s.index(after: at)...] }
        return String(s)
    }
}

/// What one poll saw, merged over every Alertmanager that answered.
public struct AlertSnapshot: Sendable, Equatable {
    /// Groups as Alertmanager groups them (receiver + group labels), alerts deduplicated.
    public var groups: [AMAlertGroup]
    /// Every alert by fingerprint.
    public var alerts: [String: AMAlert]

    public init(groups: [AMAlertGroup] = [], alerts: [String: AMAlert] = [:]) {
        self.groups = groups
        self.alerts = alerts
    }

    /// Merges the groups of several Alertmanagers (an HA pair returns the same alerts twice).
    public static func merge(_ answers: [[AMAlertGroup]]) -> AlertSnapshot {
        var order: [String] = []
        var groups: [String: AMAlertGroup] = [:]
        var seenInGroup: [String: Set<String>] = [:]
        var alerts: [String: AMAlert] = [:]
        for answer in answers {
            for g in answer {
                let key = g.receiver.name + "\u{0}" + g.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{0}")
                if groups[key] == nil {
                    groups[key] = AMAlertGroup(labels: g.labels, receiver: g.receiver, alerts: [], routeLabels: g.routeLabels)
                    order.append(key)
                }
                for a in g.alerts {
                    if let known = alerts[a.fingerprint], known.updatedAt >= a.updatedAt {
                    } else {
                        alerts[a.fingerprint] = a
                    }
                    if seenInGroup[key, default: []].insert(a.fingerprint).inserted {
                        groups[key]?.alerts.append(a)
                    }
                }
            }
        }
        // Within a group, show the freshest copy of each alert.
        let merged = order.compactMap { key -> AMAlertGroup? in
            guard var g = groups[key] else { return nil }
            g.alerts = g.alerts.compactMap { alerts[$0.fingerprint] }
            return g
        }
        return AlertSnapshot(groups: merged, alerts: alerts)
    }
}
