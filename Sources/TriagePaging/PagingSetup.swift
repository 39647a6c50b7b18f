import Foundation
import Logging
import ServiceLifecycle
import TriageApp
import TriageCore
import TriageHTTP

/// Paging built from the config's `paging` section: the command handler, the incident
/// observer (automatic pages), and the escalation service.
public struct PagingSetup: Sendable {
    public let pager: Pager
    public let handler: PagingCommands
    public let observer: PagingIncidentObserver

    /// - Returns: nil when the config has no `paging` section.
    public static func make(config: TriageConfig, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PagingSetup? {
        guard let node = config.sections["paging"] else { return nil }
        let pager = Pager(config: try PagingConfig.parse(node, environment: environment))
        return PagingSetup(pager: pager, handler: PagingCommands(pager: pager), observer: PagingIncidentObserver(pager: pager))
    }

    /// The escalation service for an assembled application.
    public func service(app: TriageApplication, logger: Logger) -> EscalationService {
        let engine = EscalationEngine(pager: pager, store: app.store, http: HTTPClient(logger: logger), logger: logger)
        return EscalationService(engine: engine, logger: logger)
    }
}
