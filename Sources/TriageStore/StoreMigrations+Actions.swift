import GRDB

extension StoreMigrations {
    /// Migrations for confirmations for database actions (issue 5). Append new ones; never edit a shipped one.
    static func registerActionMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-pending-actions") { db in
            try db.create(table: "pendingAction") { t in
                t.primaryKey("token", .text)
                t.column("platform", .text).notNull()
                t.column("room", .text).notNull()
                t.column("command", .text).notNull()
                t.column("line", .text).notNull()
                t.column("target", .text)
                t.column("requestedBy", .text).notNull()
                t.column("captured", .text).notNull()
                t.column("confirmationsNeeded", .integer).notNull()
                t.column("confirmationsGiven", .integer).notNull().defaults(to: 0)
                t.column("createdAt", .datetime).notNull()
                t.column("expiresAt", .datetime).notNull()
                t.column("status", .text).notNull()
                t.column("confirmedBy", .text)
                t.column("finishedAt", .datetime)
                t.column("result", .text)
            }
            try db.create(index: "pendingAction_room", on: "pendingAction", columns: ["platform", "room", "status", "createdAt"])
        }
    
        // A pending action keeps its resolved command and bound arguments (so /confirm needs
        // no re-parsing of the typed line, whatever its prefix), and who asked and confirmed
        // by platform id (so a two-person action gets two different people).
        m.registerMigration("v8-action-arguments") { db in
            try db.alter(table: "pendingAction") { t in
                t.add(column: "arguments", .text).notNull().defaults(to: "{}")
                t.add(column: "requestedByID", .text).notNull().defaults(to: "")
                t.add(column: "confirmerIDs", .text).notNull().defaults(to: "[]")
            }
        }
    }
}
