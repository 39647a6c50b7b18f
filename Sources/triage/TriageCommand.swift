import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TriageApp
import TriageCore
import TriagePaging

@main
struct TriageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triage",
        abstract: "Incident chat-ops for PostgreSQL: runbook commands from chat, timelines, postmortems, paging.",
        version: TriageApplication.version,
        subcommands: [ConsoleCommand.self, RunCommand.self, CheckConfigCommand.self, IncidentsCommand.self, TimelineCommand.self, PostmortemCommand.self],
        defaultSubcommand: ConsoleCommand.self)
}

/// Options shared by the commands that read a config.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Config file (YAML). Without one, PostgreSQL comes from DATABASE_URL.")
    var config: String?

    @Option(name: .long, help: "Timeline store (SQLite file); overrides the config.")
    var timeline: String?

    /// - Parameter needsSecrets: false for the review tools, which read only the timeline.
    func load(needsSecrets: Bool = true) throws -> TriageConfig {
        var c = try config.map { try TriageConfig.load(path: $0, needsSecrets: needsSecrets) } ?? TriageConfig.defaults(timeline: timeline)
        if let timeline { c.timelinePath = timeline }
        return c
    }
}

enum Log {
    /// Logs go to stderr; the level comes from TRIAGE_LOG_LEVEL.
    static func bootstrap(defaultLevel: Logger.Level) -> Logger {
        let level = ProcessInfo.processInfo.environment["TRIAGE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        return Logger(label: "triage")
    }
}

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Type runbook commands in the terminal; each reply is printed. Works with a pipe.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let logger = Log.bootstrap(defaultLevel: .warning)
        let config = try options.load()
        let built = try PlatformFactory.make(config: config, logger: logger)
        let app = try TriageApplication(config: config, logger: logger, extraHandlers: built.handlers,
                                        incidentObservers: built.incidentObservers)
        for e in app.commandErrors {
            FileHandle.standardError.write(Data("warning: \(e.description)\n".utf8))
        }
        // Background services (escalation timers) run while the console does; messages they
        // queue for the console room are printed.
        var services = try built.services(app)
        if !services.isEmpty {
            let outbox = OutboxService(platform: ConsoleOutboxPlatform(), store: app.store, logger: logger)
            for case let escalation as EscalationService in services { escalation.onPass { outbox.wake() } }
            services.append(outbox)
        }
        let group = services.isEmpty ? nil : ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
        let background = Task { try await group?.run() }
        let interactive = isatty(0) == 1
        if interactive {
            FileHandle.standardError.write(Data("Triage \(TriageApplication.version) — type /help, Ctrl-D to quit.\n".utf8))
        }
        await ConsoleSession(app: app).run(interactive: interactive)
        await group?.triggerGracefulShutdown()
        _ = try? await background.value
        await app.shutdown()
    }
}

/// Synchronous on purpose: it only reads files.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the config file and every file in commands/; problems are listed with file and line.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        var problems: [String] = []
        var config: TriageConfig?
        do {
            config = try options.load()
        } catch let e as PresentableError {
            problems.append(e.description)
        }
        let commandsDir = config?.commandsDirectory ?? "commands"
        let loaded = RunbookLoader().load(directory: commandsDir)
        problems.append(contentsOf: loaded.errors.map(\.description))
        if let config {
            problems.append(contentsOf: PlatformFactory.check(config: config))
            problems.append(contentsOf: TriageApplication.runbookConfigProblems(config))
            do {
                _ = try config.postmortemSettings()
            } catch let e as PresentableError {
                problems.append(e.description)
            }
        }
        if problems.isEmpty {
            print("ok: \(options.config ?? "defaults"), \(loaded.declarations.count) runbook commands in \(commandsDir)")
        } else {
            for p in problems { print("error: \(p)") }
            throw ExitCode(1)
        }
    }
}
