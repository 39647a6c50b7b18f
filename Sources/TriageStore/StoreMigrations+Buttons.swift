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
        // Messages that update in place: a queued reply may take the place of an earlier one
        // (edited into it where the platform can); a button may name people who may tap it
        // whatever their role (the person paged, on [Ack]).
        m.registerMigration("v13-edits-in-place") { db in
            try db.alter(table: "outbox") { t in
                t.add(column: "replaces", .text)
                t.add(column: "editOnly", .boolean).notNull().defaults(to: false)
            }
            try db.alter(table: "chatButton") { t in
                t.add(column: "allowedIDs", .text)
            }
            // The outbox key of the message that shows an action's preview (to edit it with the
            // decision when it is confirmed or cancelled by a typed command).
            try db.alter(table: "pendingAction") { t in
                t.add(column: "previewKey", .text)
            }
        }
    }
}
