import Foundation
import TriageCore
import TriageStore

/// What a provider call is for.
public enum PageAction: String, Codable, Sendable {
    case trigger, acknowledge, resolve
}

/// Everything a provider needs to build one call.
public struct PageDeliveryContext: Sendable {
    public var page: PageRecord
    public var delivery: PageDelivery
    public var recipients: [PagingPerson]
    /// Who acknowledged or resolved, for the providers that record it.
    public var actor: String?
    /// When the call is made.
    public var at: Date

    /// `Incident #12 sev1: summary` (without the incident part for a page of a person).
    public var title: String {
        (page.incidentID.map { "Incident #\($0) " } ?? "") + "\(page.severity): \(page.summary)"
    }
}

extension PageDelivery {
    /// The key the provider sees: the stored key up to its `#` (see ``Pager/providerKey(_:)``).
    public var providerKey: String {
        String(dedupKey.prefix { $0 != "#" })
    }
}

/// The outcome of one provider call.
public enum DeliveryVerdict: Sendable, Equatable {
    case delivered
    /// Try again (429, 5xx, no response); `after` is the provider's Retry-After in seconds.
    case retry(after: Int?, reason: String)
    /// Never deliverable (400 and other 4xx): do not retry.
    case reject(reason: String)
}

/// A paging service reached over HTTP (PagerDuty, Opsgenie, a webhook).
public protocol PagingProvider: Sendable {
    /// The name in config (`pagerduty`).
    var name: String { get }
    /// Whether the provider has a call for `action` (a webhook has no acknowledge).
    func supports(_ action: PageAction) -> Bool
    /// The HTTP request for one delivery.
    func request(for context: PageDeliveryContext) throws -> HTTPRequest
    /// Reads the response.
    func verdict(for response: HTTPResponse) -> DeliveryVerdict
}

extension PagingProvider {
    public func verdict(for response: HTTPResponse) -> DeliveryVerdict {
        Self.standardVerdict(response)
    }

    /// 2xx delivered; 408, 429 and 5xx retried (honouring Retry-After); other statuses rejected.
    public static func standardVerdict(_ response: HTTPResponse) -> DeliveryVerdict {
        switch response.status {
        case 200..<300:
            return .delivered
        case 408, 429, 500...599:
            let after = response.headers["retry-after"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return .retry(after: after, reason: "HTTP \(response.status)" + bodyHint(response))
        default:
            return .reject(reason: "HTTP \(response.status)" + bodyHint(response))
        }
    }

    /// `url` without a trailing slash, so paths can be appended.
    static func withoutTrailingSlash(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// A short excerpt of an error body (`message` or `errors` of a JSON body).
    static func bodyHint(_ response: HTTPResponse) -> String {
        guard let text = try? JSONDecoder().decode(ProviderResponse.ErrorBody.self, from: response.body).text else { return "" }
        return text.isEmpty ? "" : " (" + String(text.prefix(200)) + ")"
    }
}

enum JSONBody {
    /// Serialises a request body with sorted keys (stable bytes for the same call).
    static func encode<T: Encodable>(_ body: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(body)
    }
}
