import Foundation
import Synchronization

/// Reads runbook command declarations from `commands/*.yaml`.
///
/// Every problem is reported as a ``ConfigError`` with file and line; a bad file never
/// stops the others from loading.
public struct RunbookLoader: Sendable {
    /// Where parsed files are kept between runs (nil: parse every time).
    public var cache: RunbookCache?

    public init(cache: RunbookCache? = RunbookCache.standard()) {
        self.cache = cache
    }

    /// The result of loading a folder: the good declarations and the errors.
    public struct Outcome {
        public var declarations: [CommandDeclaration]
        public var errors: [ConfigError]
        /// Runbook sections (title → symptoms) for `/runbook`.
        public var sections: [RunbookSection]
    }

    /// Loads every `*.yaml`/`*.yml` file in `directory`, in name order.
    public func load(directory: String) -> Outcome {
        var outcome = Outcome(declarations: [], errors: [], sections: [])
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            outcome.errors.append(ConfigError(file: directory, line: nil, message: "cannot read the commands folder"))
            return outcome
        }
        // The files are parsed on every core (each on its own); the outcome keeps name order.
        let paths = names.sorted().filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .map { (directory as NSString).appendingPathComponent($0) }
        let parsed = FileOutcomes(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            parsed.set(i, loadFile(paths[i]))
        }
        for result in parsed.all() {
            switch result {
            case .success(let (section, declarations)):
                outcome.declarations.append(contentsOf: declarations)
                outcome.sections.append(section)
            case .failure(let error):
                outcome.errors.append(error)
            }
        }
        var seen: [String: String] = [:]
        for d in outcome.declarations {
            if let first = seen[d.name] {
                outcome.errors.append(ConfigError(file: d.origin ?? "", line: nil, message: "command '\(d.name)' is already declared at \(first)"))
            }
            seen[d.name] = d.origin ?? ""
        }
        return outcome
    }

    /// Reads and parses one runbook file.
    func loadFile(_ path: String) -> Result<(RunbookSection, [CommandDeclaration]), ConfigError> {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            return .failure(ConfigError(file: path, line: nil, message: "cannot read the file as UTF-8"))
        }
        let hash = cache == nil ? 0 : data.withUnsafeBytes { RunbookCache.hash($0) }
        if let cache, let hit = cache.lookup(path: path, length: data.count, hash: hash) { return .success(hit) }
        do {
            let parsed = try parse(text, file: path)
            cache?.store(path: path, length: data.count, hash: hash, section: parsed.0, declarations: parsed.1)
            return .success(parsed)
        } catch let error as ConfigError {
            return .failure(error)
        } catch {
            return .failure(ConfigError(file: path, line: nil, message: "\(error)"))
        }
    }

    /// Parses one runbook file.
    public func parse(_ text: String, file: String) throws -> (RunbookSection, [CommandDeclaration]) {
        let root = try YAMLNode.parse(text, file: file)
        try root.checkKeys(["section", "summary", "symptoms", "commands"])
        let sectionTitle = try root.required("section").string()
        let section = RunbookSection(title: sectionTitle,
                                     summary: try root.string("summary") ?? "",
                                     symptoms: try root["symptoms"]?.strings() ?? [],
                                     commands: [])
        var declarations: [CommandDeclaration] = []
        for node in try root.required("commands").list() {
            declarations.append(try command(node, section: sectionTitle))
        }
        var s = section
        s.commands = declarations.map(\.name)
        return (s, declarations)
    }

    func command(_ node: YAMLNode, section: String) throws -> CommandDeclaration {
        try node.checkKeys(["name", "summary", "symptoms", "kind", "role", "confirmations", "arguments", "steps", "action", "aliases"])
        let name = try node.required("name").string()
        let words = name.lowercased().split(separator: " ").map(String.init)
        guard !words.isEmpty, words.allSatisfy({ $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } }) else {
            throw node["name"]!.error("a command name is one or more words of letters, digits, - and _")
        }
        let kindText = try node.string("kind") ?? "diagnostic"
        guard let kind = CommandKind(rawValue: kindText), kind != .builtin else {
            throw node["kind"]!.error("kind must be diagnostic or action")
        }
        let roleText = try node.string("role") ?? (kind == .action ? "operator" : "viewer")
        guard let role = Role(name: roleText) else {
            throw node["role"]!.error("role must be viewer, responder or operator")
        }
        var arguments: [ArgumentDeclaration] = []
        for a in try node["arguments"]?.list() ?? [] {
            arguments.append(try argument(a))
        }
        let argNames = Set(arguments.map(\.name))
        var steps: [RunbookStep] = []
        for s in try node["steps"]?.list() ?? [] {
            steps.append(try step(s, arguments: argNames))
        }
        var action: RunbookAction?
        if let a = node["action"] {
            let captured = Set(steps.flatMap(\.capture).map { capturedPrefix + $0 })
            action = try self.action(a, arguments: argNames, captured: captured)
            if let extra = action?.extraConfirmationWhen,
               arguments.first(where: { $0.name == extra })?.type != .boolean {
                throw a.error("second_confirmation_when: '\(extra)' must be a boolean argument")
            }
        }
        if kind == .action, steps.isEmpty {
            throw node.error("an action needs at least one preview step showing what it would affect")
        }
        if kind != .action, steps.contains(where: { !$0.capture.isEmpty }) {
            throw node.error("capture is only for the preview steps of an action")
        }
        if kind == .action && action == nil {
            throw node.error("an action needs an 'action' with the statements to run after confirmation")
        }
        if kind == .diagnostic && action != nil {
            throw node["action"]!.error("a diagnostic cannot have an action; set kind: action")
        }
        if steps.isEmpty && action == nil {
            throw node.error("a command needs at least one step")
        }
        let confirmations = try node.int("confirmations") ?? (kind == .action ? 1 : 0)
        if kind == .action && (role < .operator || confirmations < 1) {
            throw node.error("actions need role operator and at least one confirmation")
        }
        return CommandDeclaration(
            words: words,
            summary: try node.required("summary").string(),
            section: section,
            symptoms: try node["symptoms"]?.strings() ?? [],
            arguments: arguments,
            kind: kind,
            role: role,
            confirmations: confirmations,
            aliases: try (node["aliases"]?.strings() ?? []).map { $0.lowercased().split(separator: " ").map(String.init) },
            runbook: RunbookSpec(steps: steps, action: action),
            origin: "\(node.file):\(node.line ?? 0)")
    }

    func argument(_ node: YAMLNode) throws -> ArgumentDeclaration {
        try node.checkKeys(["name", "type", "flag", "required", "default", "help", "choices", "min", "max"])
        let name = try node.required("name").string().lowercased()
        let typeName = try node.string("type") ?? "string"
        let type: ArgumentType
        switch typeName {
        case "string": type = .string
        case "text": type = .text
        case "identifier": type = .identifier
        case "duration": type = .duration
        case "boolean": type = .boolean
        case "integer":
            type = .integer(min: try node.int("min") ?? 0, max: try node.int("max") ?? Int(Int32.max))
        case "choice":
            let choices = try node.required("choices").strings().map { $0.lowercased() }
            guard !choices.isEmpty else { throw node.error("choices must not be empty") }
            type = .choice(choices)
        default:
            throw node["type"]!.error("unknown type '\(typeName)' (string, text, identifier, integer, duration, choice, boolean)")
        }
        let isFlag = try node.bool("flag") ?? (type == .boolean)
        let decl = ArgumentDeclaration(name: name, type: type, isFlag: isFlag,
                                       isRequired: try node.bool("required") ?? false,
                                       defaultValue: try node["default"].map { try $0.string() },
                                       help: try node.string("help") ?? "")
        if let def = decl.defaultValue {
            _ = try CommandRegistry.convert(def, for: decl) { message in
                UsageError(.badArgument, message)
            }
        }
        return decl
    }

    func step(_ node: YAMLNode, arguments: Set<String>) throws -> RunbookStep {
        try node.checkKeys(["title", "sql", "params", "show", "columns", "empty", "summary", "requires_extension",
                            "missing_extension", "capture", "generated", "refuse"])
        let sql = try node.required("sql").string()
        let params = try node["params"]?.strings().map { $0.lowercased() } ?? []
        try checkParameters(sql: sql, params: params, arguments: arguments, node: node)
        let showText = try node.string("show") ?? "table"
        guard let display = RunbookStep.Display(rawValue: showText) else {
            throw node["show"]!.error("show must be table, keyvalues, text or warning")
        }
        let columns = try self.columns(node)
        return RunbookStep(title: try node.string("title"), sql: sql, parameters: params, display: display,
                           columns: columns, emptyText: try node.string("empty"), summary: try node.string("summary"),
                           requiresExtension: try node.string("requires_extension"),
                           missingExtensionHint: try node.string("missing_extension"),
                           capture: try node["capture"]?.strings() ?? [],
                           generated: try node.bool("generated") ?? false, refuse: try node.string("refuse"))
    }

    /// The `columns:` of a step or an action statement.
    func columns(_ node: YAMLNode) throws -> [ColumnSpec] {
        var columns: [ColumnSpec] = []
        for c in try node["columns"]?.list() ?? [] {
            if case .scalar = c.node {
                columns.append(ColumnSpec(name: try c.string()))
                continue
            }
            try c.checkKeys(["name", "title", "unit", "warn", "critical", "lower_is_worse", "hidden"])
            let unitText = try c.string("unit") ?? "none"
            guard let unit = ColumnSpec.Unit(rawValue: unitText) else {
                throw c["unit"]!.error("unit must be one of none, number, bytes, percent, seconds, milliseconds, duration, boolean, timestamp")
            }
            columns.append(ColumnSpec(name: try c.required("name").string(), title: try c.string("title"), unit: unit,
                                      warn: try c.double("warn"), critical: try c.double("critical"),
                                      lowerIsWorse: try c.bool("lower_is_worse") ?? false,
                                      hidden: try c.bool("hidden") ?? false))
        }
        return columns
    }

    func action(_ node: YAMLNode, arguments: Set<String>, captured: Set<String> = []) throws -> RunbookAction {
        try node.checkKeys(["statements", "autocommit", "lock", "second_confirmation_when", "warning", "lock_timeout", "on_failure", "recheck", "recheck_gone"])
        var lockTimeout: Int?
        if let text = try node.string("lock_timeout") {
            guard let seconds = DurationParser.seconds(text), seconds > 0 else {
                throw node["lock_timeout"]!.error("lock_timeout must be a duration such as 30s or 5m")
            }
            lockTimeout = seconds
        }
        let known = arguments.union(captured)
        let statements = try self.statements(node.required("statements"), arguments: arguments, known: known)
        let onFailure = try node["on_failure"].map { try self.statements($0, arguments: arguments, known: known) } ?? []
        let recheck = try node["recheck"]?.strings().map { $0.lowercased() } ?? []
        for column in recheck where !captured.contains(capturedPrefix + column) {
            throw (node["recheck"] ?? node).error("recheck: '\(column)' is not a captured column of the preview")
        }
        return RunbookAction(statements: statements, autocommit: try node.bool("autocommit") ?? false,
                             lockLevel: try node.string("lock"),
                             extraConfirmationWhen: try node.string("second_confirmation_when")?.lowercased(),
                             warning: try node.string("warning"), lockTimeoutSeconds: lockTimeout, onFailure: onFailure,
                             recheck: recheck, recheckGone: try node.string("recheck_gone"))
    }

    /// An action's `statements:` (or `on_failure:`).
    func statements(_ node: YAMLNode, arguments: Set<String>, known: Set<String>) throws -> [RunbookStatement] {
        var statements: [RunbookStatement] = []
        for s in try node.list() {
            try s.checkKeys(["sql", "params", "identifiers", "literals", "integers", "when", "unless", "title", "columns"])
            let sql = try s.required("sql").string()
            let params = try s["params"]?.strings().map { $0.lowercased() } ?? []
            let idents = try s["identifiers"]?.strings().map { $0.lowercased() } ?? []
            try checkParameters(sql: sql, params: params, arguments: known, node: s)
            for i in idents {
                guard known.contains(i) else { throw s.error("identifier '\(i)' is not a declared argument or captured column") }
                guard sql.contains("{{ident:\(i)}}") else { throw s.error("sql does not use {{ident:\(i)}}") }
            }
            let literals = try s["literals"]?.strings().map { $0.lowercased() } ?? []
            let integers = try s["integers"]?.strings().map { $0.lowercased() } ?? []
            for (kind, names) in [("literal", literals), ("integer", integers)] {
                for l in names {
                    guard known.contains(l) else { throw s.error("\(kind) '\(l)' is not a declared argument or captured column") }
                    guard sql.contains("{{\(kind):\(l)}}") else { throw s.error("sql does not use {{\(kind):\(l)}}") }
                }
            }
            let when = try s.string("when")?.lowercased()
            if let when, !arguments.contains(when) { throw s.error("when: '\(when)' is not a declared argument") }
            let unless = try s.string("unless")?.lowercased()
            if let unless, !arguments.contains(unless) { throw s.error("unless: '\(unless)' is not a declared argument") }
            statements.append(RunbookStatement(sql: sql, parameters: params, identifiers: idents, when: when,
                                               unless: unless, title: try s.string("title"), columns: try columns(s),
                                               literals: literals, integers: integers))
        }
        return statements
    }

    func checkParameters(sql: String, params: [String], arguments: Set<String>, node: YAMLNode) throws {
        for p in params where !arguments.contains(p) {
            throw node.error("parameter '\(p)' is not a declared argument" + (p.hasPrefix(capturedPrefix) ? " or captured column" : ""))
        }
        let highest = Self.highestPlaceholder(in: sql)
        if highest != params.count {
            throw node.error("sql uses $1…$\(highest) but params lists \(params.count)")
        }
    }

    /// The highest `$n` in `sql` (ignoring ones inside quotes is not needed for our files,
    /// nor for pg_stat_statements texts, whose constants are already `$n`).
    public static func highestPlaceholder(in sql: String) -> Int {
        var highest = 0
        let chars = Array(sql)
        var i = 0
        while i < chars.count {
            if chars[i] == "$" {
                var j = i + 1
                var n = 0
                while j < chars.count, let d = chars[j].wholeNumberValue, chars[j].isASCII { n = n * 10 + d; j += 1 }
                if j > i + 1 { highest = max(highest, n) }
                i = j
            } else {
                i += 1
            }
        }
        return highest
    }
}

/// A runbook section: its title, the symptoms it covers and its commands.
public struct RunbookSection: Sendable, Codable {
    public var title: String
    public var summary: String
    public var symptoms: [String]
    public var commands: [String]
}

/// The outcome of each file, filled from the threads that parse them.
private final class FileOutcomes: Sendable {
    private let results: Mutex<[Result<(RunbookSection, [CommandDeclaration]), ConfigError>?]>

    init(count: Int) {
        results = Mutex(Array(repeating: nil, count: count))
    }

    func set(_ index: Int, _ result: Result<(RunbookSection, [CommandDeclaration]), ConfigError>) {
        results.withLock { $0[index] = result }
    }

    func all() -> [Result<(RunbookSection, [CommandDeclaration]), ConfigError>] {
        results.withLock { $0.compactMap { $0 } }
    }
}
