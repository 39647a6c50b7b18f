import GRDB

extension StoreMigrations {
    /// Migrations for buttons under the bot's messages (issue 16). Append new ones; never edit a shipped one.
    static func registerButtonMigrations(_ m: inout DatabaseMigrator) {
        // What a [Ack] / [Escalate now] button runs: the button carries only the row's id.
        m.registerMigration("v12-chat-buttons") { db in
            try db.create(table: "chatButton") { t in
                t.primaryKey("id", .text)
                t.column("platform", .text).notNull()
                t.column("room", .text).notNull()
                t.column("command", .text).notNull()
                t.column("arguments", .text).notNull()
                t.column("label", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("expiresAt", .datetime)
                t.column("usedBy", .text)
                t.column("usedAt", .datetime)
            }
        }
    }
}
