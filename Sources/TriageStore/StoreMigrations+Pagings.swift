import GRDB

extension StoreMigrations {
    /// Migrations for paging and escalation state (issue 7). Append new ones; never edit a shipped one.
    static func registerPagingMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v1-paging") { db in
            // One escalation: a snapshot of its policy and where it is.
            try db.create(table: "page") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("incidentID", .integer).indexed().references("incident", onDelete: .setNull)
                t.column("platform", .text).notNull()
                t.column("room", .text).notNull()
                t.column("policyName", .text).notNull()
                t.column("policy", .text).notNull()
                t.column("summary", .text).notNull()
                t.column("severity", .text).notNull()
                t.column("openedBy", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("phase", .text).notNull()
                t.column("level", .integer).notNull()
                t.column("round", .integer).notNull()
                t.column("nextAt", .datetime)
                t.column("acknowledgedBy", .text)
                t.column("acknowledgedAt", .datetime)
                t.column("resolvedAt", .datetime)
                t.column("auto", .boolean).notNull().defaults(to: false)
            }
            try db.create(index: "page_due", on: "page", columns: ["phase", "nextAt"])
            try db.create(index: "page_room", on: "page", columns: ["platform", "room", "phase"])
            // An incident is paged automatically at most once, whoever asks.
            try db.execute(sql: "CREATE UNIQUE INDEX page_auto_per_incident ON page(incidentID) WHERE auto = 1")
            // "Level N of round R was notified": written with the deliveries, so a restart
            // never notifies the same level twice.
            try db.create(table: "pageNotification") { t in
                t.column("pageID", .integer).notNull().references("page", onDelete: .cascade)
                t.column("level", .integer).notNull()
                t.column("round", .integer).notNull()
                t.column("notifiedAt", .datetime).notNull()
                t.primaryKey(["pageID", "level", "round"])
            }
            // Provider calls to make (and made): an outbox for PagerDuty, Opsgenie, webhooks.
            try db.create(table: "pageDelivery") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("pageID", .integer).notNull().indexed().references("page", onDelete: .cascade)
                t.column("provider", .text).notNull()
                t.column("action", .text).notNull()
                t.column("dedupKey", .text).notNull()
                t.column("level", .integer).notNull()
                t.column("round", .integer).notNull()
                t.column("recipients", .text).notNull()
                t.column("status", .text).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("nextAttemptAt", .datetime).notNull()
                t.column("lastError", .text)
                t.column("createdAt", .datetime).notNull()
                t.column("finishedAt", .datetime)
                t.uniqueKey(["provider", "action", "dedupKey"])
            }
            try db.create(index: "pageDelivery_due", on: "pageDelivery", columns: ["status", "nextAttemptAt"])
            try db.create(table: "oncallOverride") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("schedule", .text).notNull()
                t.column("person", .text).notNull()
                t.column("startsAt", .datetime).notNull()
                t.column("endsAt", .datetime).notNull().indexed()
                t.column("createdBy", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
        }
        m.registerMigration("v2-paging-reopen") { db in
            // At most one automatic page per incident at a time: a reopened incident (its
            // earlier page resolved) is paged again.
            try db.execute(sql: "DROP INDEX page_auto_per_incident")
            try db.execute(sql: "CREATE UNIQUE INDEX page_auto_per_open_incident ON page(incidentID) WHERE auto = 1 AND resolvedAt IS NULL")
        }
    }
}
