import Foundation
import TriageCore

/// Triage's configuration: databases, timeline store, commands folder, roles, and the
/// sections that the chat platforms and paging read for themselves.
public struct TriageConfig: Sendable {
    /// The file it came from, if any.
    public var file: String?
    public var databases: [PostgresTarget]
    public var timelinePath: String
    public var commandsDirectory: String
    /// `roles.default`: the role of people no platform section lists (nil: they are ignored).
    /// Never granted unless the file writes it down.
    public var defaultRole: Role?
    /// `roles.break_glass`: people (platform user ids) who may give every confirmation of a
    /// two-person action alone. Empty unless the file lists them.
    public var breakGlass: Set<String>
    /// The name and role of the person at the terminal in `triage console`.
    public var consoleUser: String
    public var consoleRole: Role
    /// Platform and feature sections (`telegram`, `matrix`, `paging`, `integrity`), parsed by their owners.
    public var sections: [String: YAMLNode]

    /// Sections owned by plug-ins (`telegram`, `paging`, …); set by the composition root
    /// before a file is parsed, so an unknown key is still an error.
    public static let builtinSections: Set<String> = ["telegram", "matrix", "paging", "integrity", "migrations", "postmortems", "health", "alerts"]

    /// The configuration used without a file: `DATABASE_URL` and defaults.
    public static func defaults(environment: [String: String] = ProcessInfo.processInfo.environment,
                                timeline: String? = nil) -> TriageConfig {
        let url = environment["DATABASE_URL"] ?? "postgresql:///postgres"
        return TriageConfig(file: nil,
                            databases: [PostgresTarget(name: "default", connectionString: url)],
                            timelinePath: timeline ?? "triage.sqlite",
                            commandsDirectory: CommandsLocator.find(environment: environment),
                            defaultRole: nil,
                            breakGlass: [],
                            consoleUser: environment["USER"] ?? "console",
                            consoleRole: .operator,
                            sections: [:])
    }

    /// Reads and checks a config file. Every problem names the file and line.
    /// - Parameters:
    ///   - sections: the config sections plug-ins own (an unknown key is an error).
    ///   - needsSecrets: false for tools that never connect (`triage incidents`,
    ///     `triage postmortem`): a database whose `url_env` (or `DATABASE_URL`) is unset then
    ///     gets an empty URL instead of failing the load.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            sections: Set<String> = builtinSections, needsSecrets: Bool = true) throws -> TriageConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, message: "cannot read the config file")
        }
        return try parse(text, file: path, environment: environment, sections: sections, needsSecrets: needsSecrets)
    }

    public static func parse(_ text: String, file: String, environment: [String: String],
                             sections knownSections: Set<String> = builtinSections, needsSecrets: Bool = true) throws -> TriageConfig {
        let root = try YAMLNode.parse(text, file: file)
        try root.checkKeys(Set(["databases", "timeline", "commands", "roles", "console"]).union(knownSections))
        var config = defaults(environment: environment)
        config.file = file
        config.databases = []
        if let dbs = root["databases"] {
            for (i, node) in try dbs.list().enumerated() {
                config.databases.append(try database(node, index: i, environment: environment, needsSecrets: needsSecrets))
            }
        }
        if config.databases.isEmpty {
            guard let url = environment["DATABASE_URL"] ?? (needsSecrets ? nil : "") else {
                throw root.error("no databases configured and DATABASE_URL is not set")
            }
            if let problem = ConnectionString.problem(in: url) {
                throw root.error("DATABASE_URL: \(problem) (the value is not shown)")
            }
            config.databases = [PostgresTarget(name: "default", connectionString: url)]
        }
        let names = config.databases.map(\.name)
        if Set(names).count != names.count { throw root["databases"]!.error("database names must be unique") }
        if let t = try root.string("timeline") { config.timelinePath = t }
        if let c = try root.string("commands") { config.commandsDirectory = c }
        if let roles = root["roles"] {
            try roles.checkKeys(["default", "break_glass"])
            if let d = roles["default"] { config.defaultRole = try Role.parse(d, allowNone: true) }
            if let b = roles["break_glass"] { config.breakGlass = Set(try b.strings()) }
        }
        if let console = root["console"] {
            try console.checkKeys(["user", "role"])
            if let u = try console.string("user") { config.consoleUser = u }
            if let node = console["role"], let role = try Role.parse(node, allowNone: false) { config.consoleRole = role }
        }
        for key in knownSections {
            if let node = root[key] { config.sections[key] = node }
        }
        return config
    }

    static func database(_ node: YAMLNode, index: Int, environment: [String: String], needsSecrets: Bool = true) throws -> PostgresTarget {
        try node.checkKeys(["name", "url", "url_env", "action_url", "action_url_env", "action_role",
                            "connect_timeout", "statement_timeout", "lock_timeout"])
        let name = try node.string("name") ?? (index == 0 ? "default" : "db\(index)")
        /// A connection string from `KEY_env` (an environment variable) or `KEY`, checked
        /// before libpq sees it; a problem names the line and never shows the value.
        func connectionString(_ key: String) throws -> String? {
            let value: String
            let at: YAMLNode
            if let envNode = node[key + "_env"] {
                let env = try envNode.string()
                guard let v = environment[env], !v.isEmpty else {
                    // Tools that never connect need no secret: an empty URL they never use.
                    if !needsSecrets { return "" }
                    throw envNode.error("environment variable \(env) is not set")
                }
                value = v
                at = envNode
            } else if let n = node[key] {
                value = try n.string()
                at = n
            } else {
                return nil
            }
            if let problem = ConnectionString.problem(in: value) {
                throw at.error("\(problem) (the value is not shown)")
            }
            return value
        }
        guard let url = try connectionString("url") else {
            throw node.error("give url_env (an environment variable holding the URL) or url")
        }
        let actionURL = try connectionString("action_url")
        let actionRole = try node.string("action_role")
        if actionURL != nil, actionRole != nil {
            throw node["action_role"]!.error("give action_url(_env) or action_role, not both")
        }
        func millis(_ key: String, _ def: Int) throws -> Int {
            guard let n = node[key] else { return def }
            let text = try n.string()
            if let ms = Int(text) { return ms }
            guard let s = DurationParser.seconds(text) else { throw n.error("expected a duration such as 10s") }
            return s * 1000
        }
        let connect = try millis("connect_timeout", 5000) / 1000
        var target = PostgresTarget(name: name, connectionString: url, connectTimeout: max(2, connect),
                                    statementTimeoutMs: try millis("statement_timeout", 10_000),
                                    lockTimeoutMs: try millis("lock_timeout", 2_000))
        target.actionConnectionString = actionURL
        target.actionRole = actionRole
        return target
    }
}

/// Finds the `commands/` folder: `TRIAGE_COMMANDS`, the working directory, or beside the binary.
public enum CommandsLocator {
    public static func find(environment: [String: String]) -> String {
        if let c = environment["TRIAGE_COMMANDS"] { return c }
        let fm = FileManager.default
        if fm.fileExists(atPath: "commands") { return "commands" }
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = dir.appendingPathComponent("commands").path
            if fm.fileExists(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return "commands"
    }
}
