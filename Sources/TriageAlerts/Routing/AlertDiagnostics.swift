import Foundation

/// The runbook commands an alert calls for, and the remedy to suggest.
public struct AlertDiagnostics: Sendable, Equatable {
    /// Runbook command lines without the prefix (`pg bloat`, `pg slow --limit 5`).
    public var commands: [String]
    /// A command to suggest, with `{label}` placeholders (`pg vacuum {schemaname}.{relname}`).
    public var remedy: String?

    public init(commands: [String], remedy: String? = nil) {
        self.commands = commands.map(Self.strip)
        self.remedy = remedy.map(Self.strip)
    }

    static func strip(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        while t.hasPrefix("/") || t.hasPrefix("!") { t.removeFirst() }
        return t
    }

    /// The remedy with labels filled in (a missing label shows as `<name>`), or nil.
    public func remedy(labels: LabelSet, database: String?) -> String? {
        guard let remedy else { return nil }
        var out = ""
        var rest = Substring(remedy)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { out += rest[open...]; rest = ""; break }
            let name = String(rest[rest.index(after: open)..<close])
            let value = labels[name].map(Self.safeArgument) ?? "<\(name)>"
            out += value
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        if let database, !out.contains("--db") { out += " --db \(database)" }
        return "/" + out
    }

    /// A label value as one command argument: quoted unless it is a plain word.
    static func safeArgument(_ v: String) -> String {
        let plain = !v.isEmpty && v.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-:".unicodeScalars.contains($0)) }
        if plain { return v }
        return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: " ") + "\""
    }

    /// Shipped defaults: the seed's three alerts and the rules in `config/prometheus/`.
    public static let defaults: [String: AlertDiagnostics] = [
        "HighDeadTuples": AlertDiagnostics(commands: ["pg bloat", "pg vacuum-stats", "pg xmin"],
                                           remedy: "pg vacuum {schemaname}.{relname}"),
        "SlowDatabaseQueries": AlertDiagnostics(commands: ["pg slow", "pg active", "pg locks"],
                                                remedy: "pg cancel PID"),
        "TooManyConnections": AlertDiagnostics(commands: ["pg connections", "pg idle"],
                                               remedy: "pg kill-idle --older 10m"),
        "PostgresConnectionSaturation": AlertDiagnostics(commands: ["pg connections", "pg idle"],
                                                         remedy: "pg kill-idle --older 10m"),
        "PostgresTransactionIDWraparound": AlertDiagnostics(commands: ["pg wraparound"],
                                                            remedy: "pg vacuum TABLE"),
        "PostgresReplicationLag": AlertDiagnostics(commands: ["pg replication"],
                                                   remedy: nil),
    ]
}
