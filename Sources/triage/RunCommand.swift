import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TriageCore
import TriageRuntime

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
        let app = try TriageApplication(config: config, plugins: plugins, logger: logger)
        let services = app.botServices()
        guard !app.platforms.isEmpty else {
            throw ValidationError("no chat platform configured in \(options.config ?? "the config"): add a telegram or matrix section")
        }
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                                           failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        logger.info("triage running", metadata: ["platforms": "\(app.platforms.map(\.platform.name))"])
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
