import TriageCore

/// Guards database actions: preview first, then a single-use confirmation from an operator.
public protocol ActionFlow: Sendable {
    /// Shows what the action would affect and issues a confirmation token.
    func preview(_ context: CommandContext, spec: RunbookSpec) async throws -> CommandOutcome
}
