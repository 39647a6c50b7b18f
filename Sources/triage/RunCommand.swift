import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TriageApp
import TriageCore
import TriagePaging

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the chat bot for the platforms configured (telegram, matrix); SIGTERM stops it gracefully.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        // Few malloc arenas: a bot that idles for hours should not keep one per thread it
        // ever ran on (each holding freed memory). Set before the bot's threads start.
        MallocTuning.limitArenas(2)
        let logger = Log.bootstrap(defaultLevel: .info)
        guard options.config != nil else {
            throw ValidationError("triage run needs --config FILE (see config/*.example.yaml)")
        }
        let config = try options.load()
        let built = try PlatformFactory.make(config: config, logger: logger)
        let app = try TriageApplication(config: config, logger: logger, botName: built.botName,
                                        extraHandlers: built.handlers, incidentObservers: built.incidentObservers,
                                        parser: CommandLineParser(prefixes: built.commandPrefixes))
        for e in app.commandErrors {
            logger.error("runbook file problem", metadata: ["config.error": "\(e.description)"])
        }
        var services: [any Service] = []
        var outboxes: [OutboxService] = []
        for platform in built.platforms {
            let outbox = OutboxService(platform: platform, store: app.store, logger: logger)
            // The group stops services in reverse order: the poller first (it finishes the
            // commands in flight), then the outbox (it sends their replies).
            services.append(outbox)
            services.append(ChatBotService(platform: platform, dispatcher: app.dispatcher, store: app.store, outbox: outbox, logger: logger))
            outboxes.append(outbox)
        }
        let extra = try built.services(app)
        // Chat mentions queued by escalation timers go out at once, not at the outbox's next poll.
        for case let escalation as EscalationService in extra {
            escalation.onPass { [outboxes] in outboxes.forEach { $0.wake() } }
        }
        services.append(contentsOf: extra)
        guard !services.isEmpty else {
            throw ValidationError("no chat platform configured in \(options.config!): add a telegram or matrix section")
        }
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                                           failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        logger.info("triage running", metadata: ["platforms": "\(built.platforms.map(\.name))"])
        do {
            try await group.run()
        } catch {
            await app.shutdown()
            logger.critical("triage stopped", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        }
        await app.shutdown()
        logger.info("triage stopped")
    }
}
