import GRDB

extension StoreMigrations {
    /// Migrations for incident lifecycle extensions (issue 6). Append new ones; never edit a shipped one.
    static func registerIncidentMigrations(_ m: inout DatabaseMigrator) {
    }
}
