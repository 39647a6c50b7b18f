import Foundation
import Logging
import TriageCore
import TriageHandlers

/// Alerts as a plug-in, from the config's `alerts` section: an event source that is not a
/// chat. It follows Alertmanager (the ``AlertFollowService``), announces what fires with the
/// diagnostics the alert calls for, and serves `/alerts`, `/silence`, `/silences`, `/unsilence`.
public struct AlertsPlugin: FeaturePlugin {
    public init() {}

    public var name: String { "alerts" }
    public var sections: [String] { ["alerts"] }

    /// Built-in diagnostics an alert may name besides the runbook YAML commands.
    static let builtinDiagnostics: Set<String> = ["pg health", "pg explain", "pg integrity", "pg migrations"]

    public func makeFeature(_ context: FeatureContext) throws -> FeatureParts {
        guard let setup = try AlertsSetup.make(config: context.config, http: context.http) else {
            // `/alerts` and friends still answer: "alerts are not configured".
            return FeatureParts(handlers: [AlertsNotConfigured()])
        }
        let served = Set(["console"]).union(context.config.sections.keys.filter { ["telegram", "matrix"].contains($0) })
        let service = AlertFollowService(config: setup.config, client: setup.client, store: context.store, board: setup.board,
                                         diagnostics: DiagnosticsRunner(commands: context.commands), database: context.database,
                                         commands: context.commands, servedPlatforms: served, logger: context.logger,
                                         clock: context.now)
        return FeatureParts(handlers: [setup.handler], observers: [IncidentOpenedAnnouncements()], services: [service])
    }

    public func check(_ config: TriageConfig, environment: [String: String]) -> [String] {
        configProblems("alerts") { try Self.check(config: config) }
    }

    /// Problems in the `alerts` section: the section itself, and every diagnostics entry
    /// naming a command that is not a diagnostic.
    static func check(config: TriageConfig) throws {
        guard let node = config.sections["alerts"] else { return }
        let alerts = try AlertsConfig.parse(node, databases: config.databases.map(\.name))
        let known = Set(RunbookLoader().load(directory: config.commandsDirectory).declarations.filter { $0.kind == .diagnostic }.map(\.name))
            .union(builtinDiagnostics)
        for (alertname, plan) in alerts.diagnostics.sorted(by: { $0.key < $1.key }) {
            for c in plan.commands {
                let words = c.split(separator: " ").prefix { !$0.hasPrefix("--") }.map(String.init)
                let name = (1...max(1, words.count)).reversed().map { words.prefix($0).joined(separator: " ") }.first { known.contains($0) }
                if name == nil {
                    guard let at = node["diagnostics"]?[alertname] else {
                        throw node.error("shipped diagnostics of \(alertname): '/\(c)' is not a diagnostic runbook command here")
                    }
                    throw at.error("'/\(c)' is not a diagnostic runbook command")
                }
            }
        }
    }
}

/// The alerts parts built from the config's `alerts` section.
public struct AlertsSetup: Sendable {
    public let config: AlertsConfig
    public let client: AlertmanagerClient
    public let board: AlertBoard
    public let handler: AlertCommands

    /// - Returns: nil when the config has no `alerts` section.
    public static func make(config: TriageConfig, http: any HTTPTransport) throws -> AlertsSetup? {
        guard let node = config.sections["alerts"] else { return nil }
        let alerts = try AlertsConfig.parse(node, databases: config.databases.map(\.name))
        let client = AlertmanagerClient(urls: alerts.alertmanagers, http: http, filter: alerts.filter,
                                        receiver: alerts.receiver, timeout: alerts.timeout)
        let board = AlertBoard(urls: client.urls)
        return AlertsSetup(config: alerts, client: client, board: board, handler: AlertCommands(client: client, board: board, config: alerts))
    }
}
