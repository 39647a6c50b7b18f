import Foundation

/// The parts of the providers' documented answers Triage reads. Every field is optional, so
/// an answer with more, fewer or unexpected fields still decodes; a field of the wrong type
/// fails the decoding, which the caller reports as an unreadable answer.
enum ProviderResponse {
    /// An error body: PagerDuty's `{"status", "message", "errors": […]}`, Opsgenie's
    /// `{"message", "errors": {field: reason}}`.
    struct ErrorBody: Decodable {
        var message: String?
        var errors: Errors?

        enum CodingKeys: String, CodingKey { case message, errors }

        /// Lenient: errors of another shape leave the message alone.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            message = try? c.decodeIfPresent(String.self, forKey: .message)
            errors = try? c.decodeIfPresent(Errors.self, forKey: .errors)
        }

        enum Errors: Decodable {
            case list([String])
            case map([String: String])

            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let list = try? c.decode([String].self) {
                    self = .list(list)
                } else {
                    self = .map(try c.decode([String: String].self))
                }
            }
        }

        /// `message: errors`, as one line.
        var text: String {
            var parts: [String] = []
            if let message { parts.append(message) }
            switch errors {
            case .list(let l)?: parts.append(l.joined(separator: "; "))
            case .map(let m)?: parts.append(m.map { "\($0.key): \($0.value)" }.sorted().joined(separator: "; "))
            case nil: break
            }
            return parts.joined(separator: ": ")
        }
    }

    /// PagerDuty REST API v2 `GET /incidents`.
    struct PagerDutyIncidents: Decodable {
        var incidents: [Incident]

        struct Incident: Decodable {
            /// `triggered`, `acknowledged` or `resolved`.
            var status: String?
            var createdAt: String?
            var acknowledgements: [Acknowledgement]?
            var resolvedBy: Reference?
            var lastStatusChangeBy: Reference?
            var lastStatusChangeAt: String?

            enum CodingKeys: String, CodingKey {
                case status, acknowledgements
                case createdAt = "created_at"
                case resolvedBy = "resolved_by"
                case lastStatusChangeBy = "last_status_change_by"
                case lastStatusChangeAt = "last_status_change_at"
            }
        }

        struct Acknowledgement: Decodable {
            var at: String?
            var acknowledger: Reference?
        }

        /// A user or service reference: its id and summary (the name).
        struct Reference: Decodable {
            var id: String?
            var summary: String?
        }
    }

    /// Opsgenie Alert API v2 `GET /v2/alerts/{id}`.
    struct OpsgenieAlert: Decodable {
        var data: Alert

        struct Alert: Decodable {
            var createdAt: String?
            var acknowledged: Bool?
            /// `open` or `closed`.
            var status: String?
            var report: Report?
        }

        /// Milliseconds from creation to acknowledgement and to closing, and by whom.
        struct Report: Decodable {
            var ackTime: Double?
            var closeTime: Double?
            var acknowledgedBy: String?
            var closedBy: String?
        }
    }
}
