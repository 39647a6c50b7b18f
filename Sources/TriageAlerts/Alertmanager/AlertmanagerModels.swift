import Foundation
import TriageCore

// Alertmanager API v2 (api/v2/openapi.yaml, Alertmanager 0.25), the parts Triage uses.
// Fields added after 0.25 (`routeLabels`, `mutedBy`, silence annotations) are optional.

/// `labelSet`: label name → value.
public typealias LabelSet = [String: String]

/// `receiverReference`.
public struct AMReceiver: Codable, Sendable, Equatable, Hashable {
    public var name: String

    public init(name: String) { self.name = name }
}

/// `alertStatus`.
public struct AMAlertStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case unprocessed, active, suppressed
    }

    public var state: State
    public var silencedBy: [String]
    public var inhibitedBy: [String]
    /// Alertmanager 0.27+ only.
    public var mutedBy: [String]?

    public init(state: State, silencedBy: [String] = [], inhibitedBy: [String] = [], mutedBy: [String]? = nil) {
        self.state = state
        self.silencedBy = silencedBy
        self.inhibitedBy = inhibitedBy
        self.mutedBy = mutedBy
    }
}

/// `gettableAlert`.
public struct AMAlert: Codable, Sendable, Equatable {
    public var labels: LabelSet
    public var annotations: LabelSet
    public var receivers: [AMReceiver]
    public var fingerprint: String
    public var startsAt: Date
    public var updatedAt: Date
    public var endsAt: Date
    public var generatorURL: String?
    public var status: AMAlertStatus

    public init(labels: LabelSet, annotations: LabelSet = [:], receivers: [AMReceiver] = [], fingerprint: String,
                startsAt: Date, updatedAt: Date, endsAt: Date, generatorURL: String? = nil,
                status: AMAlertStatus = AMAlertStatus(state: .active)) {
        self.labels = labels
        self.annotations = annotations
        self.receivers = receivers
        self.fingerprint = fingerprint
        self.startsAt = startsAt
        self.updatedAt = updatedAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
        self.status = status
    }

    public var alertname: String { labels["alertname"] ?? "(no alertname)" }
}

/// `alertGroup`.
public struct AMAlertGroup: Codable, Sendable, Equatable {
    public var labels: LabelSet
    public var receiver: AMReceiver
    public var alerts: [AMAlert]
    /// Alertmanager 0.28+ only.
    public var routeLabels: LabelSet?

    public init(labels: LabelSet, receiver: AMReceiver, alerts: [AMAlert], routeLabels: LabelSet? = nil) {
        self.labels = labels
        self.receiver = receiver
        self.alerts = alerts
        self.routeLabels = routeLabels
    }
}

/// `postableAlert` (what Prometheus sends; used by tests and the benchmark).
public struct AMPostableAlert: Codable, Sendable, Equatable {
    public var labels: LabelSet
    public var annotations: LabelSet?
    public var startsAt: Date?
    public var endsAt: Date?
    public var generatorURL: String?

    public init(labels: LabelSet, annotations: LabelSet? = nil, startsAt: Date? = nil, endsAt: Date? = nil, generatorURL: String? = nil) {
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
    }
}

/// `matcher`.
public struct AMMatcher: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var value: String
    public var isRegex: Bool
    /// Defaults to true when absent (Alertmanager < 0.22 never sends it).
    public var isEqual: Bool

    public init(name: String, value: String, isRegex: Bool, isEqual: Bool) {
        self.name = name
        self.value = value
        self.isRegex = isRegex
        self.isEqual = isEqual
    }

    enum CodingKeys: String, CodingKey { case name, value, isRegex, isEqual }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        value = try c.decode(String.self, forKey: .value)
        isRegex = try c.decode(Bool.self, forKey: .isRegex)
        isEqual = try c.decodeIfPresent(Bool.self, forKey: .isEqual) ?? true
    }
}

/// `silenceStatus`.
public struct AMSilenceStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case expired, active, pending
    }

    public var state: State

    public init(state: State) { self.state = state }
}

/// `postableSilence`: an id updates that silence, none creates one.
public struct AMPostableSilence: Codable, Sendable, Equatable {
    public var id: String?
    public var matchers: [AMMatcher]
    public var startsAt: Date
    public var endsAt: Date
    public var createdBy: String
    public var comment: String

    public init(id: String? = nil, matchers: [AMMatcher], startsAt: Date, endsAt: Date, createdBy: String, comment: String) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
        self.comment = comment
    }
}

/// `gettableSilence`.
public struct AMSilence: Codable, Sendable, Equatable {
    public var id: String
    public var status: AMSilenceStatus
    public var updatedAt: Date
    public var matchers: [AMMatcher]
    public var startsAt: Date
    public var endsAt: Date
    public var createdBy: String
    public var comment: String

    public init(id: String, status: AMSilenceStatus, updatedAt: Date, matchers: [AMMatcher], startsAt: Date, endsAt: Date,
                createdBy: String, comment: String) {
        self.id = id
        self.status = status
        self.updatedAt = updatedAt
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
        self.comment = comment
    }
}

/// The body of `POST /silences`' 200 response.
public struct AMSilenceCreated: Codable, Sendable, Equatable {
    public var silenceID: String
}

/// JSON coding with Alertmanager's RFC 3339 timestamps (with or without fractional seconds).
public enum AMJSON {
    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 time")
            }
            return date
        }
        return d
    }

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(format(date))
        }
        e.outputFormatting = [.sortedKeys]
        return e
    }

    /// `2026-12-01T19:37:13Z` (UTC, whole seconds: enough for silences and test alerts).
    public static func format(_ date: Date) -> String { UTCTime.iso(date) }

    /// RFC 3339 (`2026-12-01T19:37:13Z`, `…13.123456789+01:00`), as Go's Alertmanager writes it.
    /// Parsed by hand: it is called three times per alert per poll.
    public static func parseDate(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 40 else { return nil }
        func num(_ from: Int, _ count: Int) -> Int64? {
            var v: Int64 = 0
            for i in from..<(from + count) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard let year = num(0, 4), b[4] == 45, let month = num(5, 2), b[7] == 45, let day = num(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = num(11, 2), b[13] == 58, let minute = num(14, 2),
              b[16] == 58, let second = num(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            guard i + 1 == b.count else { return nil }
        } else if b[i] == 43 || b[i] == 45 {
            guard i + 6 == b.count, let oh = num(i + 1, 2), b[i + 3] == 58, let om = num(i + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
        } else {
            return nil
        }
        let days = daysFromCivil(year, month, day)
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
