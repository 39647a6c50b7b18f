import Foundation
import Logging
import TriageCore
import TriagePostgres

/// For `triage check-config`: asks each database target's server what its diagnostics and
/// action connections may do.
public enum PrivilegeCheck {
    public struct Line: Sendable, Equatable {
        public enum Kind: String, Sendable { case info, warning, note }
        public var kind: Kind
        public var text: String
    }

    /// One line per connection, warnings for what is too much or too little, and a note for
    /// each target that could not be reached (not an error: the server may be down).
    public static func report(_ targets: [PostgresTarget], logger: Logger) async -> [Line] {
        let client = PostgresClient(targets: targets, logger: logger)
        var lines: [Line] = []
        for t in targets {
            do {
                let diag = try await client.run([RolePrivileges.probe], on: t.name, mode: .readOnly)[0]
                guard let d = RolePrivileges(diag) else { continue }
                lines.append(Line(kind: .info, text: "database \(t.name), diagnostics: \(d.summary)"))
                lines += d.diagnosticsWarnings.map { Line(kind: .warning, text: "database \(t.name): \($0)") }
                let act = try await client.run([RolePrivileges.probe], on: t.name, mode: .readWrite)[0]
                guard let a = RolePrivileges(act) else { continue }
                let separate = t.actionConnectionString != nil || t.actionRole != nil
                lines.append(Line(kind: .info, text: "database \(t.name), actions: \(a.summary)"
                                  + (separate ? "" : " (the diagnostics connection: no action_url or action_role configured)")))
                lines += a.actionWarnings.map { Line(kind: .warning, text: "database \(t.name): \($0)") }
            } catch let e as PresentableError {
                lines.append(Line(kind: .note, text: "database \(t.name): privileges not checked: \(e.description)"))
            } catch {
                lines.append(Line(kind: .note, text: "database \(t.name): privileges not checked"))
            }
        }
        await client.close()
        return lines
    }
}
