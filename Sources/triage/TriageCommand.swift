import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore

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
        var c = try config.map { try TriageConfig.load(path: $0, sections: plugins.sections, needsSecrets: needsSecrets) } ?? TriageConfig.defaults(timeline: timeline)
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
        let app = try TriageApplication(config: config, plugins: plugins, logger: logger)
        for e in app.problems {
            FileHandle.standardError.write(Data("warning: \(e.description)\n".utf8))
        }
        // Background services (escalation timers) run while the console does; messages they
        // queue for the console room are printed.
        let services = app.consoleServices()
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

/// Reads files, then asks each database what Triage's roles may do (`--offline` skips that).
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the config file and every file in commands/ (problems are listed with file and line), then what each database role may do.")

    @OptionGroup var options: ConfigOptions

    @Flag(name: .long, help: "Do not connect to the databases.")
    var offline = false

    func run() async throws {
        var problems: [String] = []
        var config: TriageConfig?
        do {
            config = try options.load()
        } catch let e as PresentableError {
            problems.append(e.description)
        }
        let commandsDir = config?.commandsDirectory ?? "commands"
        let environment = ProcessInfo.processInfo.environment
        var policies: [String] = []
        var commandCount = 0
        if let config {
            for feature in plugins.features {
                problems.append(contentsOf: feature.check(config, environment: environment))
            }
            // Build everything as `run` does, on a store in memory, connecting to nothing:
            // platform sections, their access policies, and command names taken twice.
            do {
                let app = try TriageApplication(config: config, plugins: plugins, logger: Logger(label: "check-config", factory: { _ in SwiftLogNoOpLogHandler() }),
                                                environment: environment, store: try BotStore.inMemory())
                problems.append(contentsOf: app.dispatcher.registryProblems.map(\.description))
                commandCount = app.dispatcher.registry.declarations.count
                policies.append("console: \(config.consoleUser) is \(config.consoleRole)")
                for parts in app.platforms {
                    policies.append(parts.platform.name + ":")
                    policies.append(contentsOf: parts.access.summary.map { "  " + $0 })
                }
                app.http.shutdown()
            } catch let e as PresentableError {
                if !problems.contains(e.description) { problems.append(e.description) }
            } catch {
                problems.append("unexpected \(type(of: error))")
            }
        }
        if problems.isEmpty {
            print("ok: \(options.config ?? "defaults"), \(commandCount) commands (runbook files in \(commandsDir))")
            print("who may do what:")
            for line in policies { print("  " + line) }
            if let config, !offline {
                for line in await PrivilegeCheck.report(config.databases, logger: Log.bootstrap(defaultLevel: .error)) {
                    print("\(line.kind.rawValue): \(line.text)")
                }
            }
        } else {
            for p in problems { print("error: \(p)") }
            throw ExitCode(1)
        }
    }
}
