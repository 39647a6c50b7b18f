import GRDB

extension StoreMigrations {
    /// Migrations for confirmations for database actions (issue 5). Append new ones; never edit a shipped one.
    static func registerActionMigrations(_ m: inout DatabaseMigrator) {
    }
}
