import Foundation
import Logging
import TriageChat
import TriageCore
import TriageHandlers

/// Runs runbook diagnostics declared in `commands/*.yaml` against PostgreSQL, read-only.
public struct RunbookCommands: ActionHandler {
    public let declarations: [CommandDeclaration]
    let database: any SQLRunner
    let actions: ConfirmationFlow
    let renderer = StepRenderer()

    /// - Parameters:
    ///   - declarations: the runbook commands (each gets a `--db NAME` option).
    ///   - database: where they run.
    public init(declarations: [CommandDeclaration], database: any SQLRunner) {
        self.declarations = declarations.map { d in
            var d = d
            if !d.arguments.contains(where: { $0.name == "db" }) {
                d.arguments.append(ArgumentDeclaration(name: "db", type: .string, isFlag: true,
                                                       help: "database target (default: the first configured)"))
            }
            return d
        }
        self.database = database
        self.actions = ConfirmationFlow(database: database)
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        guard let spec = context.declaration.runbook else {
            throw TriageError(.notFound, "/\(context.declaration.name) has nothing to run.")
        }
        let reply = try await run(spec.steps, title: context.declaration.summary, context: context)
        return CommandOutcome(reply: reply, recordsCommand: true)
    }

    public func preview(_ context: CommandContext) async throws -> ActionPreview {
        guard let spec = context.declaration.runbook else {
            throw TriageError(.notFound, "/\(context.declaration.name) has nothing to run.")
        }
        return try await actions.preview(context, spec: spec)
    }

    public func execute(_ context: CommandContext, captured: [String: [String?]], target: String?) async throws -> ActionResult {
        try await actions.execute(context.declaration, arguments: context.arguments, captured: captured, target: target)
    }

    /// Runs `steps` in one read-only transaction and builds the reply.
    public func run(_ steps: [RunbookStep], title: String, context: CommandContext) async throws -> Reply {
        let target = context.arguments.string("db")
        let needed = Set(steps.compactMap(\.requiresExtension))
        var missing: Set<String> = []
        if !needed.isEmpty {
            let check = SQLStatement("SELECT extname FROM pg_extension WHERE extname = ANY($1::text[])",
                                     parameters: ["{" + needed.sorted().joined(separator: ",") + "}"])
            let present = Set(try await database.run([check], on: target, mode: .readOnly)[0].rows.compactMap { $0[0] })
            missing = needed.subtracting(present)
        }
        let runnable = steps.filter { $0.requiresExtension.map { !missing.contains($0) } ?? true }
        var results = try await StepQueries.run(runnable, arguments: context.arguments, target: target, database: database)
        var shownSteps = runnable
        // `--against NAME` (commands that declare it): the same steps on another target, side by side.
        if context.declaration.arguments.contains(where: { $0.name == "against" }), let other = context.arguments.string("against") {
            let theirs = try await StepQueries.run(runnable, arguments: context.arguments, target: other, database: database)
            for i in runnable.indices {
                (shownSteps[i], results[i]) = SideBySide.merge(runnable[i], results[i], theirs[i], against: other)
            }
        }
        var blocks: [ReplyBlock] = []
        var summaries: [String] = []
        var resultIndex = 0
        for step in steps {
            if let ext = step.requiresExtension, missing.contains(ext) {
                let hint = step.missingExtensionHint ?? "The \(ext) extension is not installed in this database: CREATE EXTENSION \(ext);"
                blocks.append(.note(hint, .warning))
                summaries.append("\(ext) not installed")
                continue
            }
            let (stepBlocks, summary) = renderer.render(shownSteps[resultIndex], result: results[resultIndex], arguments: context.arguments)
            resultIndex += 1
            blocks.append(contentsOf: stepBlocks)
            if let summary { summaries.append(summary) }
        }
        var reply = Reply(title: title + (target.map { " [\($0)]" } ?? ""), blocks: blocks)
        reply.mark = reply.worstMark
        reply.summary = summaries.first ?? title
        return reply
    }
}
