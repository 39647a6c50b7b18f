import TriageCore

/// Runs the read-only queries of runbook steps, including `generated` ones (whose first query
/// returns the SQL text to run, built by the server from the catalog).
enum StepQueries {
    /// One result per step, in order.
    static func run(_ steps: [RunbookStep], arguments: BoundArguments, target: String?,
                    database: any SQLRunner) async throws -> [QueryResult] {
        guard !steps.isEmpty else { return [] }
        let statements = steps.map { step in
            SQLStatement(step.sql, parameters: step.parameters.map { arguments[$0]?.sqlParameter })
        }
        var results = try await database.run(statements, on: target, mode: .readOnly)
        var second: [(index: Int, statement: SQLStatement)] = []
        for (i, step) in steps.enumerated() where step.generated {
            if let text = results[i].rows.first?.first ?? nil, !text.isEmpty {
                second.append((i, SQLStatement(text)))
            } else {
                results[i] = QueryResult(columns: [], rows: [])
            }
        }
        if !second.isEmpty {
            let generated = try await database.run(second.map(\.statement), on: target, mode: .readOnly)
            for (k, item) in second.enumerated() { results[item.index] = generated[k] }
        }
        return results
    }
}
