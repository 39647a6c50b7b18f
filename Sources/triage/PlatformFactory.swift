import Foundation
import Logging
import ServiceLifecycle
import TriageApp
import TriageCore
import TriageMatrix
import TriagePaging
import TriageHTTP
import TriageTelegram

/// Builds the chat platforms, extra command handlers and services named in the config.
/// Each platform module adds itself here.
enum PlatformFactory {
    struct Built {
        var platforms: [any ChatPlatform] = []
        var handlers: [any CommandHandler] = []
        var botName: String?
        /// Characters that start a command (Matrix adds `!`).
        var commandPrefixes: Set<Character> = ["/"]
        /// Told when incidents open and resolve (automatic paging).
        var incidentObservers: [any IncidentLifecycleObserver] = []
        /// Services that need the assembled application (paging escalation timers).
        var services: (TriageApplication) throws -> [any Service] = { _ in [] }
    }

    static func make(config: TriageConfig, logger: Logger) throws -> Built {
        var built = Built()
        if let node = config.sections["matrix"] {
            let matrix = try MatrixConfig.parse(node, defaultRole: config.defaultRole)
            built.platforms.append(MatrixPlatform(config: matrix, logger: logger))
            built.commandPrefixes.formUnion(matrix.commandPrefixes)
        }
        if let paging = try PagingSetup.make(config: config) {
            built.handlers.append(paging.handler)
            built.incidentObservers.append(paging.observer)
            built.services = { app in [paging.service(app: app, logger: logger)] }
        } else {
            built.handlers.append(PagingNotConfigured())
        }
        if let section = config.sections["telegram"] {
            let telegram = try TelegramConfig.parse(section, environment: ProcessInfo.processInfo.environment)
            let http = HTTPClient(logger: logger, userAgent: "Triage/\(TriageApplication.version)")
            built.platforms.append(TelegramPlatform(config: telegram, http: http, logger: logger))
            built.botName = telegram.botUsername
        }
        return built
    }

    /// Problems in the platform sections of `config`, for `triage check-config`.
    static func check(config: TriageConfig) -> [String] {
        var problems: [String] = []
        func check(_ section: String, _ body: () throws -> Void) {
            do {
                try body()
            } catch let e as PresentableError {
                problems.append(e.description)
            } catch {
                // Only presentable errors are shown: others may carry a secret from the section.
                problems.append("\(section): unexpected \(type(of: error))")
            }
        }
        if let node = config.sections["matrix"] {
            check("matrix") { _ = try MatrixConfig.parse(node, defaultRole: config.defaultRole) }
        }
        check("paging") { _ = try PagingSetup.make(config: config) }
        if let section = config.sections["telegram"] {
            check("telegram") { _ = try TelegramConfig.parse(section, environment: ProcessInfo.processInfo.environment) }
        }
        return problems
    }
}
