import GRDB

extension StoreMigrations {
    /// Migrations for incident lifecycle extensions (issue 6). Append new ones; never edit a shipped one.
    static func registerIncidentMigrations(_ m: inout DatabaseMigrator) {
        // Roles other than commander (scribe, comms) as a JSON object: {"scribe":"@bob"}.
        m.registerMigration("v6-incident-roles") { db in
            try db.alter(table: "incident") { t in
                t.add(column: "roles", .text).notNull().defaults(to: "{}")
            }
            try db.create(index: "timelineEvent_incident_kind", on: "timelineEvent", columns: ["incidentID", "kind"])
        }
    }
}
