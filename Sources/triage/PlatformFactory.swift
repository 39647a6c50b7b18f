import Foundation
import Logging
import ServiceLifecycle
import TriageApp
import TriageCore
import TriageHTTP
import TriageTelegram

/// Builds the chat platforms, extra command handlers and services named in the config.
/// Each platform module adds itself here.
enum PlatformFactory {
    struct Built {
        var platforms: [any ChatPlatform] = []
        var handlers: [any CommandHandler] = []
        var botName: String?
        /// Services that need the assembled application (paging escalation timers).
        var services: (TriageApplication) throws -> [any Service] = { _ in [] }
    }

    static func make(config: TriageConfig, logger: Logger) throws -> Built {
        var built = Built()
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
        if let section = config.sections["telegram"] {
            do {
                _ = try TelegramConfig.parse(section, environment: ProcessInfo.processInfo.environment)
            } catch {
                problems.append("\(error)")
            }
        }
        return problems
    }
}
