import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// `/help`, `/ping` and `/runbook`: generated from the declarations and runbook sections.
public struct GeneralCommands: CommandHandler {
    let sections: [RunbookSection]
    let version: String
    let startedAt: Date

    public init(sections: [RunbookSection], version: String, startedAt: Date) {
        self.sections = sections
        self.version = version
        self.startedAt = startedAt
    }

    /// All three are answered from declarations and the runbook alone (instant).
    public var declarations: [CommandDeclaration] {
        [
            CommandDeclaration(words: ["help"], summary: "List commands, or show one command's usage.",
                               arguments: [ArgumentDeclaration(name: "command", type: .text, help: "a command name, e.g. pg idle")]),
            CommandDeclaration(words: ["ping"], summary: "Check that Triage is alive: version and uptime."),
            CommandDeclaration(words: ["runbook"], summary: "Map a symptom to the commands that diagnose and fix it.",
                               arguments: [ArgumentDeclaration(name: "symptom", type: .text, help: "e.g. too many connections")]),
        ].map { d in
            var d = d
            d.instant = true
            return d
        }
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        switch context.declaration.name {
        case "help":
            return CommandOutcome(reply: try help(context))
        case "ping":
            let uptime = DurationFormatter.format(seconds: context.now.timeIntervalSince(startedAt))
            return CommandOutcome(reply: Reply.text("pong: Triage \(version), up \(uptime)"))
        default:
            let reply = runbook(context.arguments.string("symptom"), registry: context.registry)
            return CommandOutcome(reply: reply, suggestedCommands: Self.suggestions(in: reply))
        }
    }

    func help(_ context: CommandContext) throws -> Reply {
        let registry = context.registry
        guard var name = context.arguments.string("command")?.lowercased(), !name.isEmpty else {
            return HelpFormatter().overview(registry, role: context.message.role)
        }
        if name.hasPrefix("/") { name.removeFirst() }
        if let d = registry.declaration(named: name) {
            return HelpFormatter().detail(d)
        }
        let group = registry.declarations.filter { $0.words.first == name && $0.words.count > 1 }
        if !group.isEmpty {
            let rows = group.sorted { $0.name < $1.name }.map { [ReplyCell("/" + $0.name), ReplyCell($0.summary)] }
            return Reply(title: "/\(name) commands", blocks: [.table(ReplyTable(columns: ["command", "what it does"], rows: rows))])
        }
        let all = registry.declarations.map(\.name)
        throw UsageError(.unknownCommand, "No command named '\(name.prefix(40))'.",
                         suggestions: Suggester.closest(to: name, among: all))
    }

    /// A section's YAML commands, then the built-in ones declared for the same section.
    static func commandNames(of section: RunbookSection, registry: CommandRegistry) -> [String] {
        section.commands + registry.declarations.filter { $0.section == section.title && !section.commands.contains($0.name) }.map(\.name)
    }

    /// The sections and commands whose symptoms match the words typed.
    func runbook(_ symptom: String?, registry: CommandRegistry) -> Reply {
        guard let symptom, !symptom.isEmpty else {
            let rows = sections.map { s in
                [ReplyCell(s.title), ReplyCell(s.symptoms.joined(separator: "; ")), ReplyCell(Self.commandNames(of: s, registry: registry).map { "/" + $0 }.joined(separator: " "))]
            }
            var table = ReplyTable(columns: ["section", "symptoms", "commands"], rows: rows)
            table.unclipped = true
            return Reply(title: "Runbook quick reference",
                         blocks: [.table(table),
                                  .text("Type /runbook SYMPTOM, e.g. /runbook too many connections.")])
        }
        let words = Set(symptom.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { $0.count > 2 })
        func score(_ texts: [String]) -> Int {
            texts.map { t in
                let tw = Set(t.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init))
                return words.intersection(tw).count
            }.max() ?? 0
        }
        var matches: [(Int, RunbookSection)] = sections.map { (score($0.symptoms + [$0.title, $0.summary]), $0) }.filter { $0.0 > 0 }
        matches.sort { $0.0 > $1.0 }
        let commandMatches = registry.declarations.filter { score($0.symptoms) > 0 }
        guard !matches.isEmpty || !commandMatches.isEmpty else {
            return Reply(blocks: [.note("No runbook section matches '\(symptom.prefix(80))'.", .warning),
                                  .text("Known symptoms: " + sections.flatMap(\.symptoms).joined(separator: "; "))],
                         summary: "no runbook match")
        }
        var blocks: [ReplyBlock] = []
        for (_, s) in matches.prefix(2) {
            let cmds = Self.commandNames(of: s, registry: registry).compactMap { registry.declaration(named: $0) }
            let rows = cmds.map { [ReplyCell("/" + $0.name), ReplyCell($0.kind == .action ? "fix" : "diagnose"), ReplyCell($0.summary)] }
            blocks.append(.text(s.title + (s.summary.isEmpty ? "" : ": " + s.summary)))
            var table = ReplyTable(columns: ["command", "kind", "what it does"], rows: rows)
            table.unclipped = true
            blocks.append(.table(table))
        }
        let extra = commandMatches.filter { d in !matches.prefix(2).contains { $0.1.commands.contains(d.name) || $0.1.title == d.section } }
        if !extra.isEmpty {
            var table = ReplyTable(title: "Also relevant", columns: ["command", "what it does"],
                                   rows: extra.map { [ReplyCell("/" + $0.name), ReplyCell($0.summary)] })
            table.unclipped = true
            blocks.append(.table(table))
        }
        return Reply(title: "Runbook: \(symptom.prefix(80))", blocks: blocks, summary: "runbook \(symptom.prefix(80))")
    }

    /// The diagnostics a `/runbook SYMPTOM` answer lists (its "diagnose" rows), to offer as
    /// buttons; the dispatcher drops any that need arguments.
    static func suggestions(in reply: Reply) -> [String] {
        reply.blocks.flatMap { block -> [String] in
            guard case .table(let t) = block, t.columns.first == "command", t.columns.count == 3 else { return [] }
            return t.rows.filter { $0.count == 3 && $0[1].text == "diagnose" }.map { $0[0].text }
        }
    }
}
