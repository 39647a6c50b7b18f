import GRDB

/// The store's schema, one named migration per change. Append; never edit a shipped one.
enum StoreMigrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-incidents-timeline") { db in
            try db.create(table: "incident") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("platform", .text).notNull()
                t.column("room", .text).notNull()
                t.column("title", .text).notNull()
                t.column("severity", .text).notNull()
                t.column("status", .text).notNull()
                t.column("commander", .text)
                t.column("openedBy", .text).notNull()
                t.column("openedAt", .datetime).notNull()
                t.column("acknowledgedAt", .datetime)
                t.column("mitigatedAt", .datetime)
                t.column("resolvedAt", .datetime)
                t.column("summary", .text)
            }
            // At most one active incident per room.
            try db.execute(sql: """
                CREATE UNIQUE INDEX incident_one_active_per_room ON incident(platform, room) WHERE status <> 'resolved'
                """)
            try db.create(table: "timelineEvent") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("incidentID", .integer).notNull().indexed().references("incident", onDelete: .cascade)
                t.column("at", .datetime).notNull()
                t.column("actor", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("command", .text)
                t.column("text", .text).notNull()
                t.column("output", .text)
                t.column("payload", .text)
            }
            try db.create(table: "platformCursor") { t in
                t.primaryKey("platform", .text)
                t.column("value", .text).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "processedMessage") { t in
                t.column("platform", .text).notNull()
                t.column("messageID", .text).notNull()
                t.column("handledAt", .datetime).notNull()
                t.primaryKey(["platform", "messageID"])
            }
            try db.create(table: "outbox") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("platform", .text).notNull()
                t.column("room", .text).notNull()
                t.column("replyTo", .text)
                t.column("key", .text).notNull().unique()
                t.column("reply", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("sentAt", .datetime)
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("lastError", .text)
            }
            try db.create(index: "outbox_pending", on: "outbox", columns: ["platform", "sentAt", "id"])
        }
        registerActionMigrations(&m)
        registerIncidentMigrations(&m)
        registerPagingMigrations(&m)
        registerPlatformMigrations(&m)
        registerInboundMigrations(&m)
        registerOutboxMigrations(&m)
        registerAlertMigrations(&m)
        return m
    }
}
