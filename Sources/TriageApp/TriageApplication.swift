import Foundation
import Logging
import TriageCore
import TriagePostgres
import TriageStore

/// Triage assembled from its configuration: database client, store, handlers, dispatcher.
/// The CLI builds one and hands it to a console session or to platform services.
public final class TriageApplication: Sendable {
    public static let version = "0.1.0"

    public let config: TriageConfig
    public let store: TimelineStore
    public let database: PostgresClient
    public let dispatcher: Dispatcher
    /// Problems found in `commands/`: reported at start-up, never fatal.
    public let commandErrors: [ConfigError]
    public let logger: Logger

    public init(config: TriageConfig, logger: Logger, botName: String? = nil,
                extraHandlers: [any CommandHandler] = [], incidentObservers: [any IncidentLifecycleObserver] = [],
                parser: CommandLineParser = CommandLineParser(),
                now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.config = config
        self.logger = logger
        let loaded = RunbookLoader().load(directory: config.commandsDirectory)
        commandErrors = loaded.errors
        for e in loaded.errors {
            logger.error("runbook file problem", metadata: ["config.error": "\(e.description)"])
        }
        store = try TimelineStore(path: config.timelinePath)
        database = PostgresClient(targets: config.databases, logger: logger)
        let registryBox = RegistryBox()
        let actions = ConfirmationFlow(database: database)
        let runbook = RunbookCommands(declarations: loaded.declarations, database: database, actions: actions)
        let incidents = IncidentCommands(database: database, store: store, postmortems: try config.postmortemSettings())
        var handlers: [any CommandHandler] = [
            GeneralCommands(sections: loaded.sections, version: Self.version, startedAt: now()) { registryBox.value },
            runbook,
            incidentObservers.isEmpty ? incidents : IncidentLifecycleRelay(incidents, observers: incidentObservers),
        ]
        handlers.append(contentsOf: try Self.runbookHandlers(config: config, logger: logger, database: database, store: store,
                                                             actions: actions, runbook: runbook))
        handlers.append(contentsOf: extraHandlers)
        dispatcher = Dispatcher(handlers: handlers, store: store, logger: logger, parser: parser, botName: botName, now: now)
        registryBox.value = dispatcher.registry
    }

    /// Closes database sessions.
    public func shutdown() async {
        await database.close()
    }
}

/// Lets `/help` see the final registry, which exists only once every handler is known.
final class RegistryBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _value = CommandRegistry()
    var value: CommandRegistry {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}
