import Foundation
import Logging
import ServiceLifecycle
import TriageCore
import TriageStore

/// A feature as a plug-in (runbook, incidents, paging): it names the config sections it
/// reads, checks them, and contributes command handlers, incident observers and services.
public protocol FeaturePlugin: Sendable {
    /// A short name for logs and `check-config` (`paging`).
    var name: String { get }
    /// Top-level config sections this feature owns (`paging`, `health`).
    var sections: [String] { get }
    /// Problems in the feature's sections, for `check-config` (connects to nothing).
    func check(_ config: TriageConfig, environment: [String: String]) -> [String]
    /// Builds the feature for a running Triage.
    func makeFeature(_ context: FeatureContext) throws -> FeatureParts
}

extension FeaturePlugin {
    public func check(_ config: TriageConfig, environment: [String: String]) -> [String] { [] }
}

/// What a feature plug-in gets from the composition root.
public struct FeatureContext: Sendable {
    public var config: TriageConfig
    public var environment: [String: String]
    public var store: BotStore
    /// The configured PostgreSQL targets.
    public var database: any SQLRunner
    /// The process's one HTTP client.
    public var http: any HTTPTransport
    public var logger: Logger
    /// Triage's version, for `/ping` and user agents.
    public var version: String
    /// The process's one clock (tests inject one they move by hand).
    public var clock: any TriageClock
    /// `clock.now` as a closure, for code that takes one.
    public var now: @Sendable () -> Date { { [clock] in clock.now } }
    /// Runs diagnostics as the bot and tells incident observers, for features that act without
    /// a chat message (alerts); bound by the composition root once the dispatcher exists.
    public var commands: CommandRunner

    public init(config: TriageConfig, environment: [String: String], store: BotStore, database: any SQLRunner,
                http: any HTTPTransport, logger: Logger, version: String, clock: any TriageClock = SystemClock(),
                commands: CommandRunner = CommandRunner()) {
        self.config = config
        self.environment = environment
        self.store = store
        self.database = database
        self.http = http
        self.logger = logger
        self.version = version
        self.clock = clock
        self.commands = commands
    }
}

/// What a feature contributes.
public struct FeatureParts: Sendable {
    public var handlers: [any CommandHandler]
    public var observers: [any IncidentObserver]
    public var services: [any Service]
    /// Problems found while loading (runbook files): reported, never fatal.
    public var problems: [ConfigError]

    public init(handlers: [any CommandHandler] = [], observers: [any IncidentObserver] = [],
                services: [any Service] = [], problems: [ConfigError] = []) {
        self.handlers = handlers
        self.observers = observers
        self.services = services
        self.problems = problems
    }
}

/// Turns a thrown error into a `check-config` line without ever showing a raw error (it
/// could carry a secret from the section).
public func configProblems(_ section: String, _ body: () throws -> Void) -> [String] {
    do {
        try body()
        return []
    } catch let e as PresentableError {
        return [e.description]
    } catch {
        return ["\(section): unexpected \(type(of: error))"]
    }
}
