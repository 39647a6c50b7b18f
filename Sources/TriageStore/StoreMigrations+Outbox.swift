import GRDB

extension StoreMigrations {
    /// Migrations for the outbox's delivery state. Append new ones; never edit a shipped one.
    static func registerOutboxMigrations(_ m: inout DatabaseMigrator) {
        // Every part of a split reply is tracked ("sending" before the call, "sent" with the
        // platform message ids after), and rooms that must wait (429 retry_after) are kept, so a
        // restart neither resends delivered parts nor floods a room that was told to wait.
        m.registerMigration("v10-outbox-parts") { db in
            try db.create(table: "outboxPart") { t in
                t.column("outboxID", .integer).notNull().references("outbox", onDelete: .cascade)
                t.column("part", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("messageIDs", .text)
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("updatedAt", .datetime).notNull()
                t.primaryKey(["outboxID", "part"])
            }
            // Recent sends rebuild the pacing after a restart.
            try db.create(index: "outboxPart_updatedAt", on: "outboxPart", columns: ["updatedAt"])
            try db.create(table: "outboxHold") { t in
                t.column("platform", .text).notNull()
                t.column("room", .text).notNull()
                t.column("notBefore", .datetime).notNull()
                t.primaryKey(["platform", "room"])
            }
        }
    }
}
