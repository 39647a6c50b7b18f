import Foundation
import Logging
import ServiceLifecycle
import TriageApp
import TriageCore

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
        let built = Built()
        return built
    }

    /// Problems in the platform sections of `config`, for `triage check-config`.
    static func check(config: TriageConfig) -> [String] {
        []
    }
}
