import GRDB

extension StoreMigrations {
    /// Migrations for chat-platform state. Append new ones; never edit a shipped one.
    static func registerPlatformMigrations(_ m: inout DatabaseMigrator) {
        // A room that moved for good (a Telegram group upgraded to a supergroup): the new room
        // is served like the old one after a restart, and replies queued for the old room go there.
        m.registerMigration("v7-room-migrations") { db in
            try db.create(table: "roomMigration") { t in
                t.column("platform", .text).notNull()
                t.column("fromRoom", .text).notNull()
                t.column("toRoom", .text).notNull()
                t.column("migratedAt", .datetime).notNull()
                t.primaryKey(["platform", "fromRoom"])
            }
        }
    }
}
