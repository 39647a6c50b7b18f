import Foundation
import TriageCore
import TriageStore

/// Told about incidents opening and closing, inside the transaction that changes them, so
/// whatever the observer writes (a page, its deliveries) commits or rolls back with it.
public protocol IncidentLifecycleObserver: Sendable {
    /// `incident` was just inserted (it has its id).
    func incidentOpened(_ incident: Incident, by actor: String, at date: Date, in tx: StoreTransaction) throws
    /// `incident` was just marked resolved.
    func incidentResolved(_ incident: Incident, by actor: String, at date: Date, in tx: StoreTransaction) throws
    /// The open `incident`'s severity was just changed from `previous`. A reopened incident is
    /// reported to ``incidentOpened(_:by:at:in:)`` again.
    func incidentSeverityChanged(_ incident: Incident, from previous: Severity, by actor: String, at date: Date,
                                 in tx: StoreTransaction) throws
}

extension IncidentLifecycleObserver {
    public func incidentSeverityChanged(_ incident: Incident, from previous: Severity, by actor: String, at date: Date,
                                        in tx: StoreTransaction) throws {}
}

/// Wraps the incident command handler and tells observers when a command opened or resolved
/// the room's incident, by comparing the room's active incident before and after the
/// handler's own writes (in the same transaction). The wrapped handler needs no changes.
public struct IncidentLifecycleRelay: CommandHandler {
    let inner: any CommandHandler
    let observers: [any IncidentLifecycleObserver]

    public init(_ inner: any CommandHandler, observers: [any IncidentLifecycleObserver]) {
        self.inner = inner
        self.observers = observers
    }

    public var declarations: [CommandDeclaration] { inner.declarations }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        var outcome = try await inner.handle(context)
        guard let commit = outcome.commit, !observers.isEmpty else { return outcome }
        let m = context.message
        let observers = self.observers
        outcome.commit = { tx, reply in
            let before = try tx.activeIncident(platform: m.platform, room: m.room)
            let result = try commit(tx, reply)
            let after = try tx.activeIncident(platform: m.platform, room: m.room)
            let at = context.now
            if let before, before.id != after?.id, let now = try tx.incident(id: before.id!), now.status == .resolved {
                for o in observers { try o.incidentResolved(now, by: m.senderName, at: at, in: tx) }
            }
            if let after, after.id != before?.id {
                for o in observers { try o.incidentOpened(after, by: m.senderName, at: at, in: tx) }
            } else if let after, let before, after.severity != before.severity {
                for o in observers { try o.incidentSeverityChanged(after, from: before.severity, by: m.senderName, at: at, in: tx) }
            }
            return result
        }
        return outcome
    }
}
