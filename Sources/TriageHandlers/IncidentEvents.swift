import Foundation
import TriageCore
import TriageStore

/// Told about incidents opening and closing, inside the transaction that changes them, so
/// whatever the observer writes (a page, its deliveries) commits or rolls back with it.
public protocol IncidentObserver: Sendable {
    func incidentChanged(_ event: IncidentEvent, in tx: StoreTransaction) throws
}

/// Something that happened to an incident, said by the code that made it happen.
public struct IncidentEvent: Sendable {
    public enum Kind: Sendable, Equatable {
        case opened
        case resolved
        /// Reopened after it was resolved.
        case reopened
        /// The severity changed (from → to).
        case severityChanged(from: Severity, to: Severity)
    }

    public var kind: Kind
    /// The incident as it is after the change (it has its id).
    public var incident: Incident
    public var actor: String
    public var at: Date

    public init(_ kind: Kind, incident: Incident, actor: String, at: Date) {
        self.kind = kind
        self.incident = incident
        self.actor = actor
        self.at = at
    }
}

/// Where incident events go: every observer, synchronously, in the caller's transaction.
public struct IncidentEvents: Sendable {
    let observers: [any IncidentObserver]

    public init(observers: [any IncidentObserver] = []) {
        self.observers = observers
    }

    /// Tells every observer; a throwing observer rolls the whole transaction back.
    public func emit(_ event: IncidentEvent, in tx: StoreTransaction) throws {
        for o in observers { try o.incidentChanged(event, in: tx) }
    }
}
