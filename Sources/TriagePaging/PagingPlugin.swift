import Foundation
import Logging
import TriageCore
import TriageHandlers

/// Paging as a plug-in, from the config's `paging` section: the `/page`, `/ack`, `/oncall`
/// commands, the incident observer (automatic pages), and the escalation service.
public struct PagingPlugin: FeaturePlugin {
    public init() {}

    public var name: String { "paging" }
    public var sections: [String] { ["paging"] }

    public func makeFeature(_ context: FeatureContext) throws -> FeatureParts {
        guard let setup = try PagingSetup.make(config: context.config, environment: context.environment) else {
            // `/page` and friends still answer: "paging is not configured", not "did you mean /pg?".
            return FeatureParts(handlers: [PagingNotConfigured()])
        }
        let engine = EscalationEngine(pager: setup.pager, store: context.store, http: context.http, logger: context.logger,
                                      clock: context.clock)
        return FeatureParts(handlers: [setup.handler], observers: [setup.observer],
                            services: [EscalationService(engine: engine, logger: context.logger)])
    }

    public func check(_ config: TriageConfig, environment: [String: String]) -> [String] {
        guard let node = config.sections["paging"] else { return [] }
        return configProblems("paging") { _ = try PagingConfig.parse(node, environment: environment) }
    }
}

/// Paging's parts built from the config's `paging` section.
public struct PagingSetup: Sendable {
    public let pager: Pager
    public let handler: PagingCommands
    public let observer: PagingIncidentObserver

    /// - Returns: nil when the config has no `paging` section.
    public static func make(config: TriageConfig, environment: [String: String]) throws -> PagingSetup? {
        guard let node = config.sections["paging"] else { return nil }
        let pager = Pager(config: try PagingConfig.parse(node, environment: environment))
        return PagingSetup(pager: pager, handler: PagingCommands(pager: pager), observer: PagingIncidentObserver(pager: pager))
    }
}
