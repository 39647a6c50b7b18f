import Foundation
import Logging
import Testing
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore
import TriageTesting

/// A YAML command named like a built-in is an error with file and line, never silently dropped.
@Suite struct RegistryCollisionTests {
    @Test func aYAMLCommandNamedLikeABuiltInIsReportedWithFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("collide-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try """
        section: "Site checks"
        commands:
          - name: pg health
            summary: "A site-specific health check."
            kind: diagnostic
            role: viewer
            steps:
              - sql: SELECT 1 AS one
        """.write(to: dir.appendingPathComponent("90-site.yaml"), atomically: true, encoding: .utf8)
        var config = TriageConfig.defaults(environment: ["DATABASE_URL": "postgresql://127.0.0.1:1/none"])
        config.commandsDirectory = dir.path
        let app = try TriageApplication(config: config, plugins: StandardPlugins.all,
                                        logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }),
                                        store: try BotStore.inMemory())
        defer { app.http.shutdown() }
        let problem = try #require(app.problems.first { $0.description.contains("pg health") })
        #expect(problem.description.contains("90-site.yaml:3"))
        #expect(problem.description.contains("already declared"))
        // The built-in keeps the name.
        #expect(app.dispatcher.registry.declaration(named: "pg health").map { $0.origin == nil } == true)
    }
}
