import GRDB

extension StoreMigrations {
    /// The inbound journal. Append new migrations; never edit a shipped one.
    static func registerInboundMigrations(_ m: inout DatabaseMigrator) {
        // Every command received is journaled (with the platform cursor past it) before it
        // runs, so the cursor can move on while commands run concurrently: a crash loses
        // nothing (unfinished events are retried once at start-up, then quarantined) and
        // repeats nothing that committed (the processed mark).
        m.registerMigration("v9-inbound-journal") { db in
            try db.create(table: "inboundEvent") { t in
                t.column("platform", .text).notNull()
                t.column("messageID", .text).notNull()
                t.column("room", .text).notNull()
                t.column("message", .text).notNull()
                t.column("receivedAt", .datetime).notNull()
                t.column("starts", .integer).notNull().defaults(to: 1)
                t.column("status", .text).notNull()
                t.primaryKey(["platform", "messageID"])
            }
            try db.create(index: "inboundEvent_status", on: "inboundEvent", columns: ["platform", "status"])
        }
    }
}
