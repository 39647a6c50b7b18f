import Foundation
import TriageCore
import TriageStore

/// The buttons of an alert's announcement: [Silence 1h] [Silence 4h] [Open incident]. Each is a
/// stored `chatButton` row holding the command and its bound arguments (`/silence #FP 1h`,
/// `/incident open sev3 TITLE`), run as whoever taps, with their role, exactly as typed; the
/// emoji are the Matrix reactions that stand for them.
enum AlertButtons {
    /// The silences offered, as (label, emoji, duration text, seconds).
    static let silences: [(label: String, emoji: String, duration: String, seconds: Int)] = [
        ("Silence 1h", "🔕", "1h", 3600),
        ("Silence 4h", "💤", "4h", 4 * 3600),
    ]
    static let openIncidentEmoji = "🚨"

    /// The keyboard for `alert`'s announcement in one room. [Open incident] only when the
    /// announcement is not recorded in an incident already; a silence only when the config's
    /// silence limits allow its duration. Nil when there is nothing to offer.
    static func keyboard(for alert: FollowedAlert, severity: Severity, incident: Int64?, config: AlertsConfig,
                         platform: String, room: String, at now: Date, in tx: StoreTransaction) throws -> [[ReplyButton]]? {
        var row: [ReplyButton] = []
        for s in silences where (config.minSilence...max(config.minSilence, config.maxSilence)).contains(s.seconds) {
            // The whole fingerprint: a prefix could name another alert later.
            let spec = BoundArguments(["spec": .string("#\(alert.fingerprint) \(s.duration)")])
            row.append(try tx.storeButton(s.label, emoji: s.emoji, command: "silence", arguments: spec,
                                          platform: platform, room: room, at: now))
        }
        if incident == nil {
            let arguments = BoundArguments(["severity": .string(severity.rawValue), "title": .string(incidentTitle(alert))])
            row.append(try tx.storeButton("Open incident", emoji: openIncidentEmoji, command: "incident open", arguments: arguments,
                                          platform: platform, room: room, at: now))
        }
        return row.isEmpty ? nil : [row]
    }

    /// The title of the incident [Open incident] opens (what an alert's route would open).
    static func incidentTitle(_ alert: FollowedAlert) -> String {
        let title = "\(alert.alertname): \(alert.annotations["summary"] ?? AlertMessages.labelText(alert.labels))"
        return String(title.prefix(200))
    }
}
