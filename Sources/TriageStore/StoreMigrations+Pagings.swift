import GRDB

extension StoreMigrations {
    /// Migrations for paging and escalation state (issue 7). Append new ones; never edit a shipped one.
    static func registerPagingMigrations(_ m: inout DatabaseMigrator) {
    }
}
