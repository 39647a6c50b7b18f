import Foundation
import Logging
import ServiceLifecycle
import TriageChat
import TriageCore
import TriageHandlers
import TriageHTTP
import TriagePostgres
import TriageStore

/// The plug-ins a Triage binary is made of: features (runbook, incidents, paging, …) and chat
/// platforms (Telegram, Matrix, …). `run`, `console` and `check-config` all walk this list.
public struct PluginList: Sendable {
    public var features: [any FeaturePlugin]
    public var platforms: [any PlatformPlugin]

    public init(features: [any FeaturePlugin], platforms: [any PlatformPlugin]) {
        self.features = features
        self.platforms = platforms
    }

    /// Every config section some plug-in owns.
    public var sections: Set<String> {
        Set(features.flatMap(\.sections) + platforms.map(\.section))
    }
}

/// Triage assembled from its configuration and plug-ins: the one HTTP client, the database
/// client, the store, every feature's handlers, observers and services, the dispatcher, and
/// the chat platforms the config turns on. The one composition root.
public final class TriageApplication: Sendable {
    public static let version = "0.1.0"

    public let config: TriageConfig
    public let store: BotStore
    public let database: PostgresClient
    public let http: HTTPClient
    public let dispatcher: Dispatcher
    /// The platforms the config turns on, with their access policies.
    public let platforms: [PlatformParts]
    /// Services the features contribute (escalation timers).
    public let featureServices: [any Service]
    /// Problems found while loading (runbook files, command names taken twice): reported at
    /// start-up, never fatal.
    public let problems: [ConfigError]
    public let logger: Logger
    /// The one clock: the outbox, escalation and confirmation expiry all read and wait on it.
    public let clock: any TriageClock

    /// - Parameters:
    ///   - store: the store to use instead of the config's file (check-config uses one in memory).
    ///   - extraHandlers: handlers added after the plug-ins' (tests).
    public init(config: TriageConfig, plugins: PluginList, logger: Logger,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                store: BotStore? = nil, extraHandlers: [any CommandHandler] = [],
                clock: any TriageClock = SystemClock()) throws {
        self.config = config
        self.clock = clock
        self.logger = logger
        let http = HTTPClient(logger: logger, userAgent: "Triage/\(Self.version)")
        self.http = http
        let store = try store ?? BotStore(path: config.timelinePath)
        self.store = store
        database = PostgresClient(targets: config.databases, logger: logger)

        var platforms: [PlatformParts] = []
        let platformContext = PlatformContext(defaultRole: config.defaultRole, environment: environment, http: http, logger: logger)
        for plugin in plugins.platforms {
            guard let node = config.sections[plugin.section] else { continue }
            platforms.append(try plugin.makePlatform(node, context: platformContext))
        }
        self.platforms = platforms

        let commands = CommandRunner()
        let featureContext = FeatureContext(config: config, environment: environment, store: store, database: database,
                                            http: http, logger: logger, version: Self.version, clock: clock, commands: commands)
        var handlers: [any CommandHandler] = []
        var observers: [any IncidentObserver] = []
        var services: [any Service] = []
        var problems: [ConfigError] = []
        for plugin in plugins.features {
            let parts = try plugin.makeFeature(featureContext)
            handlers += parts.handlers
            observers += parts.observers
            services += parts.services
            problems += parts.problems
        }
        handlers += extraHandlers
        featureServices = services
        for e in problems {
            logger.error("runbook file problem", metadata: ["config.error": "\(e.description)"])
        }
        let prefixes = platforms.reduce(into: Set<Character>(["/"])) { $0.formUnion($1.commandPrefixes) }
        let dispatcher = Dispatcher(handlers: handlers, store: store, logger: logger,
                                    parser: CommandLineParser(prefixes: prefixes),
                                    botName: platforms.compactMap(\.botName).first, observers: observers,
                                    confirmation: ConfirmationSettings(breakGlass: config.breakGlass), clock: clock)
        self.dispatcher = dispatcher
        commands.bind(run: { line in await dispatcher.runDiagnostic(line) }, incidentEvents: IncidentEvents(observers: observers))
        self.problems = problems + dispatcher.registryProblems
    }

    /// The services of `triage run`: per platform its outbox and its poller, then the features'.
    /// The group stops services in reverse order: features, then pollers (they finish the
    /// commands in flight), then outboxes (they send the replies).
    public func botServices() -> [any Service] {
        var services: [any Service] = []
        for parts in platforms {
            services.append(OutboxService(platform: parts.platform, store: store, logger: logger, clock: clock))
            services.append(ChatBotService(platform: parts.platform, sink: parts.platform, dispatcher: dispatcher, store: store, logger: logger))
        }
        return services + featureServices
    }

    /// The services of `triage console`: the terminal's outbox (for what escalation timers
    /// queue for the console room) and the features'.
    public func consoleServices() -> [any Service] {
        featureServices.isEmpty ? [] : [OutboxService(platform: ConsoleSink(), store: store, logger: logger, clock: clock)] + featureServices
    }

    /// Closes database sessions and the HTTP client.
    public func shutdown() async {
        await database.close()
        http.shutdown()
    }
}
