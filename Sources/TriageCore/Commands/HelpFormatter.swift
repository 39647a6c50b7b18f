/// Builds `/help` and `/help COMMAND` replies from declarations, showing only what the
/// caller may run.
public struct HelpFormatter: Sendable {
    public init() {}

    /// The command list, grouped by runbook section.
    public func overview(_ registry: CommandRegistry, role: Role) -> Reply {
        let visible = registry.declarations.filter { $0.role <= role }
        var groups: [(String, [CommandDeclaration])] = []
        for d in visible {
            let key = d.section.isEmpty ? "General" : d.section
            if let i = groups.firstIndex(where: { $0.0 == key }) {
                groups[i].1.append(d)
            } else {
                groups.append((key, [d]))
            }
        }
        groups.sort { $0.0 == "General" ? true : ($1.0 == "General" ? false : $0.0 < $1.0) }
        var blocks: [ReplyBlock] = []
        for (section, decls) in groups {
            let rows = decls.sorted { $0.name < $1.name }.map { d -> [ReplyCell] in
                [ReplyCell("/" + d.name), ReplyCell(d.summary + (d.kind == .action ? " (action)" : ""))]
            }
            var table = ReplyTable(title: section, columns: ["command", "what it does"], rows: rows)
            table.unclipped = true
            blocks.append(.table(table))
        }
        blocks.append(.text("Type /help COMMAND for its arguments, /runbook SYMPTOM for what to run."))
        return Reply(title: "Triage commands", blocks: blocks, summary: "help")
    }

    /// Help for one command: usage, summary, arguments, runbook section.
    public func detail(_ d: CommandDeclaration) -> Reply {
        var kvs = [KeyValue("usage", d.usage)]
        if !d.section.isEmpty { kvs.append(KeyValue("runbook", d.section)) }
        kvs.append(KeyValue("kind", d.kind == .builtin ? "built in" : d.kind.rawValue))
        kvs.append(KeyValue("role", d.role.description))
        if d.confirmations > 0 {
            kvs.append(KeyValue("confirm", d.confirmations == 1 ? "/confirm TOKEN" : "/confirm TOKEN, \(d.confirmations) times"))
        }
        if !d.aliases.isEmpty {
            kvs.append(KeyValue("aliases", d.aliases.map { "/" + $0.joined(separator: " ") }.joined(separator: ", ")))
        }
        if !d.symptoms.isEmpty { kvs.append(KeyValue("symptoms", d.symptoms.joined(separator: "; "))) }
        var blocks: [ReplyBlock] = [.text(d.summary), .keyValues(kvs)]
        if !d.arguments.isEmpty {
            let rows = d.arguments.map { a -> [ReplyCell] in
                [ReplyCell(a.isFlag ? "--\(a.name)" : a.name.uppercased()),
                 ReplyCell(a.type.placeholder.isEmpty ? "flag" : a.type.placeholder),
                 ReplyCell(a.defaultValue ?? (a.isRequired ? "required" : "-")),
                 ReplyCell(a.help)]
            }
            blocks.append(.table(ReplyTable(title: "arguments", columns: ["argument", "type", "default", "meaning"], rows: rows)))
        }
        return Reply(title: "/" + d.name, blocks: blocks, summary: "help \(d.name)")
    }
}
