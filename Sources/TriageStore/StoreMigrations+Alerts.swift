import GRDB

extension StoreMigrations {
    /// Migrations for followed Alertmanager alerts (issue 15) and silences made from chat. Append new
    /// ones; never edit a shipped one.
    static func registerAlertMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v11-alerts") { db in
            // One row per Alertmanager fingerprint Triage knows: what it announced where, so a
            // restart neither announces it again nor forgets to say it resolved.
            try db.create(table: "alertState") { t in
                t.primaryKey("fingerprint", .text)
                t.column("alertname", .text).notNull()
                t.column("labels", .text).notNull()
                t.column("annotations", .text).notNull()
                t.column("generatorURL", .text)
                t.column("startsAt", .datetime).notNull()
                t.column("firstSeen", .datetime).notNull()
                t.column("lastSeen", .datetime).notNull()
                t.column("missedPolls", .integer).notNull().defaults(to: 0)
                t.column("status", .text).notNull()
                t.column("resolvedAt", .datetime)
                t.column("announced", .boolean).notNull().defaults(to: false)
                t.column("platform", .text)
                t.column("room", .text)
                t.column("messageKey", .text)
                t.column("incidentID", .integer)
                t.column("openedIncident", .boolean).notNull().defaults(to: false)
            }
            try db.create(index: "alertState_status", on: "alertState", columns: ["status", "resolvedAt"])
            try db.create(table: "alertSilence") { t in
                t.primaryKey("id", .text)
                t.column("matchers", .text).notNull()
                t.column("createdBy", .text).notNull()
                t.column("comment", .text).notNull()
                t.column("platform", .text).notNull()
                t.column("room", .text).notNull()
                t.column("startsAt", .datetime).notNull()
                t.column("endsAt", .datetime).notNull()
                t.column("expiredAt", .datetime)
                t.column("expiredBy", .text)
                t.column("incidentID", .integer)
            }
        }
    }
}
