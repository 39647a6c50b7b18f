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
    
        // Small values a platform keeps across restarts (Matrix's device id), scoped by
        // platform. The device id used to live among the cursors under "matrix.device".
        m.registerMigration("v8-platform-state") { db in
            try db.create(table: "platformState") { t in
                t.column("platform", .text).notNull()
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.primaryKey(["platform", "key"])
            }
            try db.execute(sql: """
                INSERT INTO platformState(platform, key, value, updatedAt)
                SELECT 'matrix', 'device', value, updatedAt FROM platformCursor WHERE platform = 'matrix.device'
                """)
            try db.execute(sql: "DELETE FROM platformCursor WHERE platform = 'matrix.device'")
        }
    }
}
