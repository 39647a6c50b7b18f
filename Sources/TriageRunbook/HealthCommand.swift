import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// `/pg health`: every runbook check at once, flagged against thresholds, with the command
/// to run next for each abnormal one. Thresholds can be changed in the config's `health:`
/// section (`thresholds: {connections: {warn: 70, critical: 85}}`).
public struct HealthCommand: CommandHandler {
    let database: any SQLRunner
    let checks: [HealthCheck]

    public init(database: any SQLRunner, checks: [HealthCheck] = HealthCheck.standard) {
        self.database = database
        self.checks = checks
    }

    /// The standard checks with the thresholds of a config `health:` section applied.
    public static func checks(config node: YAMLNode?) throws -> [HealthCheck] {
        var checks = HealthCheck.standard
        guard let node else { return checks }
        try node.checkKeys(["thresholds"])
        guard let thresholds = node["thresholds"] else { return checks }
        for (key, value) in try thresholds.entries() {
            guard let i = checks.firstIndex(where: { $0.key == key }) else {
                throw value.error("unknown health check '\(key)'; known: \(checks.map(\.key).joined(separator: ", "))")
            }
            try value.checkKeys(["warn", "critical"])
            if let w = try value.double("warn") { checks[i].warn = w }
            if let c = try value.double("critical") { checks[i].critical = c }
        }
        return checks
    }

    public var declarations: [CommandDeclaration] {
        [CommandDeclaration(words: ["pg", "health"],
                            summary: "One summary of every check (connections, locks, vacuum, indexes, wraparound, replication, migrations…), flagging what is abnormal and what to run next.",
                            section: "9. Emergency",
                            symptoms: ["database down", "complete database failure", "gradual slowdown", "high response times",
                                       "performance degradation", "something is wrong"],
                            arguments: [ArgumentDeclaration(name: "db", type: .string, isFlag: true, help: "database target (default: the first configured)")],
                            kind: .diagnostic)]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        let target = context.arguments.string("db")
        let present = try await database.run([SQLStatement("""
            SELECT 'ext:' || extname FROM pg_extension
            UNION ALL SELECT 'rel:' || c.relname FROM pg_class c WHERE c.relname = ANY($1::text[]) AND pg_table_is_visible(c.oid)
            UNION ALL SELECT 'superuser:' || rolname FROM pg_roles WHERE rolname = session_user AND rolsuper
            """, parameters: [ConfirmationFlow.arrayLiteral(checks.compactMap(\.requiresRelation))])], on: target, mode: .readOnly)[0]
        let available = Set(present.rows.compactMap { $0.first ?? nil })
        let superuser = available.first { $0.hasPrefix("superuser:") }.map { String($0.dropFirst("superuser:".count)) }
        var rows: [[ReplyCell]] = []
        var abnormal: [(HealthCheck, Mark, String, String)] = []
        for check in checks {
            if let ext = check.requiresExtension, !available.contains("ext:" + ext) { continue }
            if let rel = check.requiresRelation, !available.contains("rel:" + rel) { continue }
            let value: String?
            let detail: String
            var next = check.next
            var mark: Mark
            do {
                let r = try await database.run([SQLStatement(check.sql)], on: target, mode: .readOnly)[0]
                value = r.value("value")
                detail = r.value("detail") ?? ""
                if let specific = r.value("next"), !specific.isEmpty { next = specific }
                mark = check.evaluate(value)
            } catch let e as PresentableError {
                value = nil
                detail = "check failed: \(e.description)"
                mark = .warning
            }
            if mark > .none { abnormal.append((check, mark, check.format(value), next)) }
            let status = mark == .critical ? "CRITICAL" : mark == .warning ? "warning" : "ok"
            rows.append([ReplyCell(check.title), ReplyCell(check.format(value), mark: mark), ReplyCell(status, mark: mark),
                         ReplyCell(detail), ReplyCell(mark > .none ? next : "")])
        }
        // Abnormal first, worst first; the order of the checks otherwise.
        rows = rows.enumerated().sorted { a, b in
            let ma = a.element[2].mark, mb = b.element[2].mark
            return ma != mb ? ma > mb : a.offset < b.offset
        }.map(\.element)
        var blocks: [ReplyBlock] = [.table(ReplyTable(columns: ["check", "value", "status", "detail", "run next"],
                                                      numeric: [false, true, false, false, false], rows: rows))]
        if let superuser {
            blocks.insert(.note("Diagnostics run as the superuser \(superuser): anything they evaluate could do anything. "
                                + "Connect them as a least-privilege role with pg_monitor, and give actions their own connection (docs/security.md).",
                                .warning), at: 0)
        }
        let summary: String
        if abnormal.isEmpty {
            blocks.append(.note("Every check is within its thresholds.", .ok))
            summary = "health: all \(rows.count) checks ok"
        } else {
            let worst = abnormal.sorted { $0.1 > $1.1 }
            blocks.append(.text("Next: " + worst.map { "\($0.0.title) → \($0.3)" }.joined(separator: "; ")))
            summary = "health: \(abnormal.count) abnormal: " + worst.map { "\($0.0.title) \($0.2)" }.joined(separator: ", ")
        }
        var reply = Reply(title: "Database health" + (target.map { " [\($0)]" } ?? ""), blocks: blocks, summary: summary)
        reply.mark = reply.worstMark == .none ? .ok : reply.worstMark
        // The diagnostics among the next steps become buttons (worst first).
        let suggested = abnormal.sorted { $0.1 > $1.1 }.flatMap { $0.3.components(separatedBy: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("/") }
        return CommandOutcome(reply: reply, recordsCommand: true, suggestedCommands: suggested)
    }
}
