import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// Incidents as a plug-in: open (with a database snapshot), state, severity, status, roles,
/// notes, follow-ups, resolve, reopen, timelines and postmortems.
public struct IncidentsPlugin: FeaturePlugin {
    public init() {}

    public var name: String { "incidents" }
    public var sections: [String] { ["postmortems"] }

    public func makeFeature(_ context: FeatureContext) throws -> FeatureParts {
        FeatureParts(handlers: [IncidentCommands(database: context.database, store: context.store,
                                                 postmortems: try context.config.postmortemSettings())])
    }

    public func check(_ config: TriageConfig, environment: [String: String]) -> [String] {
        configProblems("postmortems") { _ = try config.postmortemSettings() }
    }
}
