import Foundation
import Logging
import Testing
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageTesting
import TriageCore
@testable import TriageMatrix
import TriagePaging
@testable import TriageTelegram
@testable import TriagePostgres

/// A database built to break formatters and renderers — numeric, bigint and float extremes,
/// NaN and ±Infinity, huge text, NULL in every column, identifiers with quotes, spaces,
/// unicode and HTML, sequences at their limits — and **every** registered command run against
/// it through the built binary (`triage console` in a pipe). The process must not die, and
/// every command must get a reply.
@Suite(.enabled(if: TestEnvironment.hasPostgres && TestEnvironment.hasBinary), .serialized)
struct AdversarialCatalogTests {
    /// Object names a chat user can type (each also a relation in the catalog).
    static let names = ["sp ace tab", "dq\"name", "quo'te", "ünï_cödé_🔥", "<b>html&amp;</b>", "CamelCase"]

    static let fixture = """
        CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
        CREATE SCHEMA "we""ird schema";
        CREATE SCHEMA "<i>ünï</i> 🔥";
        CREATE TABLE extremes (
            id serial PRIMARY KEY, b bigint, i integer, s smallint, n numeric, f8 float8, f4 float4,
            t text, by bytea, j jsonb, ts timestamptz, iv interval, ok boolean, u uuid, arr int[]);
        INSERT INTO extremes(b, i, s, n, f8, f4, t, by, j, ts, iv, ok, u, arr) VALUES
            (9223372036854775807, 2147483647, 32767, 'NaN', 'Infinity', 'NaN', repeat('🔥<b>&', 20000), '\\x00ff',
             '{"a":1e308}', 'infinity', '178000000 years', true, gen_random_uuid(), '{1,2}'),
            (-9223372036854775808, -2147483648, -32768, 'Infinity', '-Infinity', '-Infinity', E'nul\\\\0 tab\\t cr\\r',
             '\\x', 'null', '-infinity', '-178000000 years', false, NULL, '{}'),
            (0, 0, 0, (repeat('9', 1000) || '.' || repeat('9', 1000))::numeric, 1.7976931348623157e308,
             3.4e38, '', NULL, '[]', '294276-12-31 23:59:59+00', '1 microsecond', NULL, NULL, NULL),
            (NULL, NULL, NULL, '-Infinity', 4.9e-324, 1.4e-45, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
            (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        INSERT INTO extremes(t) SELECT md5(g::text) FROM generate_series(1, 2000) g;
        DELETE FROM extremes WHERE id % 3 = 0 AND id > 10;
        CREATE INDEX "ix <b>&quot;</b>" ON extremes (b);
        CREATE INDEX "ix dup 1" ON extremes (i);
        CREATE INDEX "ix dup 2" ON extremes (i);
        CREATE TABLE "sp ace tab" (v numeric DEFAULT 'NaN', w text, "sp ace tab" int);
        CREATE TABLE "dq""name" (v bigint DEFAULT 9223372036854775807);
        CREATE TABLE "quo'te" (v float8 DEFAULT 'Infinity');
        CREATE TABLE "ünï_cödé_🔥" (v float8 DEFAULT '-Infinity');
        CREATE TABLE "<b>html&amp;</b>" (id bigint PRIMARY KEY, parent bigint REFERENCES "<b>html&amp;</b>"(id));
        CREATE TABLE "CamelCase" (v int);
        ALTER TABLE "CamelCase" ADD CONSTRAINT "quo'te" CHECK (v > 0) NOT VALID;
        CREATE TABLE held (v int);
        CREATE TABLE "we""ird schema"."t ""x"" <script>" (v text);
        CREATE TABLE "<i>ünï</i> 🔥"."ünï" (v text);
        INSERT INTO "sp ace tab" SELECT 'NaN', repeat('x', 100000) FROM generate_series(1, 5);
        INSERT INTO "<b>html&amp;</b>" VALUES (9223372036854775807, NULL), (-9223372036854775808, 9223372036854775807);
        CREATE SEQUENCE b;
        CREATE SEQUENCE "seq ""max"" <b>" MAXVALUE 9223372036854775807 START 9223372036854775806;
        SELECT nextval('"seq ""max"" <b>"'), nextval('"seq ""max"" <b>"');
        CREATE SEQUENCE seq_min INCREMENT -1 MINVALUE -9223372036854775808 MAXVALUE -9223372036854775807 START -9223372036854775807;
        SELECT nextval('seq_min'), nextval('seq_min');
        CREATE SEQUENCE seq_small AS smallint MAXVALUE 32767 START 32767;
        SELECT nextval('seq_small');
        CREATE SEQUENCE seq_cycle CYCLE MAXVALUE 2;
        CREATE MATERIALIZED VIEW "mv <b>" AS SELECT * FROM extremes WHERE id < 10;
        CREATE VIEW "v 🔥" AS SELECT 'NaN'::float8 AS x;
        CREATE TABLE parted (k bigint, v text) PARTITION BY RANGE (k);
        CREATE TABLE "parted max" PARTITION OF parted FOR VALUES FROM (9223372036854775000) TO (MAXVALUE);
        COMMENT ON TABLE extremes IS '<script>alert(1)</script> 🔥 &amp;';
        ANALYZE;
        """

    @Test func everyRegisteredCommandAnswersOnTheCatalog() async throws {
        let url = try TestEnvironment.freshDatabase("catalog")
        defer { TestEnvironment.dropDatabase(url) }
        let setup = try TestEnvironment.session(url, app: "triage-test-admin")
        for statement in Self.fixture.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            _ = try setup.execute(statement)
        }
        // Sessions the diagnostics list: an odd application name, idle in a transaction, its
        // last query long and full of markup. (Its lock is on a table no command here touches:
        // pg_locks is cluster-wide, and a blocking chain would show in other suites' /pg locks.)
        let holder = try TestEnvironment.session(url, app: "<b>app</b> \"q\" 🔥 &amp;")
        // A prepared transaction with a hostile gid (one of the string values), for
        // /pg rollback-prepared. It holds the cluster's xmin horizon until confirmed.
        await ClusterHorizon.shared.acquire()
        defer { ClusterHorizon.shared.release() }
        let gid = "<b>&amp;\"x\"</b>"
        let preparer = try TestEnvironment.session(url, app: "triage-test-prepare")
        for statement in ["BEGIN", "INSERT INTO held VALUES (1)", "PREPARE TRANSACTION '\(gid)'"] {
            _ = try preparer.execute(statement)
        }
        defer { _ = try? setup.execute("ROLLBACK PREPARED '\(gid)'") }
        _ = try holder.execute("BEGIN")
        _ = try holder.execute("SELECT count(*), '\(String(repeating: "<b>🔥</b>", count: 500))' AS \"x <i>\" FROM held")

        let dir = TestEnvironment.scratch("catalog")
        let configPath = dir.appendingPathComponent("triage.yaml").path
        try Self.config(databaseURL: url, directory: dir).write(toFile: configPath, atomically: true, encoding: .utf8)
        let app = try Self.application(configPath: configPath)
        let declarations = app.dispatcher.registry.declarations
        #expect(declarations.count >= 45, "the registry is loaded, paging commands included")
        #expect(declarations.contains { $0.words.first == "page" }, "paging commands are registered")
        var lines = ["/incident open sev2 \"<b>catalog</b> \\\"test\\\" 🔥 & \(String(repeating: "🔥", count: 300))\""]
        // `/ping` is the marker after every line (so it runs hundreds of times anyway).
        for declaration in declarations where declaration.words != ["ping"] {
            lines.append(contentsOf: Self.invocations(declaration))
        }
        // Statements recorded on the catalog (hostile aliases and literals), for
        // /pg explain-analyze: each with a hostile value for every placeholder it has.
        _ = try setup.execute("SELECT count(*) AS \"n <b>&amp;</b> 🔥\", max(b) FROM extremes WHERE t <> '<i>x</i>' OR b > 9")
        let recorded = try setup.execute("""
            SELECT queryid::text, query FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query ~* '^select' AND (query LIKE '%held%' OR query LIKE '%extremes%')
            """).rows
        #expect(!recorded.isEmpty, "the catalog's own SELECTs are recorded")
        for row in recorded {
            guard let id = row.first ?? nil, let query = row.count > 1 ? row[1] : nil else { continue }
            let placeholders = RunbookLoader.highestPlaceholder(in: query)
            lines.append((["/pg explain-analyze", id] + Array(repeating: "\"<b>&amp;\\\"x\\\"</b>\"", count: placeholders)).joined(separator: " "))
        }
        let first = try await Self.console(lines, config: configPath)
        // Second pass: confirm every action previewed in the first one, so the action paths run
        // on the catalog's names too.
        let sequences = zip(first.lines, first.replies).first { $0.0 == "/pg sequences" }?.1 ?? ""
        #expect(sequences.contains("9223372036854775807"), "bigint maximum shown exactly: \(sequences)")
        #expect(sequences.contains("-9223372036854775807"), "descending sequence shown exactly: \(sequences)")
        if let dump = ProcessInfo.processInfo.environment["TRIAGE_CATALOG_DUMP"] {
            try zip(first.lines, first.replies).map { "» \($0.0)\n\($0.1)\n" }.joined(separator: "\n")
                .write(toFile: dump, atomically: true, encoding: .utf8)
        }
        // Not the actions that end sessions: they act on the whole cluster, and other suites
        // run on the same server at the same time (their previews ran above all the same).
        // Nor /pg statements-reset: pg_stat_statements_reset() empties the whole server's history.
        let sessionEnders = ["/pg kill-idle", "/pg terminate", "/pg cancel"]
        let clusterWide = sessionEnders + ["/pg statements-reset"]
        let codes = Set(zip(first.lines, first.replies).filter { pair in !clusterWide.contains { pair.0.hasPrefix($0) } }
            .flatMap { Self.confirmationCodes(in: $0.1) })
        let second = try await Self.console(codes.sorted().map { "/confirm \($0)" } + ["/incident", "/timeline", "/postmortem"],
                                            config: configPath)
        _ = try? holder.execute("ROLLBACK")
        // Every remedy (but those that end sessions) found something to do on the hostile names at
        // least once, and each confirmation ended in a result, never in an internal error.
        let remedies = declarations.filter { $0.kind == .action }.map { "/" + $0.words.joined(separator: " ") }
            .filter { r in !sessionEnders.contains { r.hasPrefix($0) } }
        #expect(remedies.count >= 11)
        for remedy in remedies {
            let previewed = zip(first.lines, first.replies).contains { pair in
                (pair.0 == remedy || pair.0.hasPrefix(remedy + " ")) && !Self.confirmationCodes(in: pair.1).isEmpty
            }
            #expect(previewed, "\(remedy) previewed something to confirm on the catalog")
        }
        for (line, reply) in zip(second.lines, second.replies) where line.hasPrefix("/confirm ") {
            // VACUUM FULL asks a second person: that is an answer too.
            #expect(reply.contains("Done") || reply.contains("Failed") || reply.contains("Confirmation 1 of 2 recorded"),
                    "\(line): \(reply.prefix(300))")
            #expect(!reply.contains("Internal error"), "\(line): \(reply.prefix(300))")
        }
        #expect(try setup.execute("SELECT count(*)::text FROM pg_prepared_xacts WHERE gid = $1", [gid]).rows.first?.first ?? nil == "0",
                "/pg rollback-prepared rolled the hostile gid back")
        // The same lines in-process, each reply rendered for Telegram and Matrix and checked as
        // those platforms would check it.
        var rendered = 0
        for (n, line) in lines.enumerated() {
            let message = InboundMessage(platform: "telegram", room: "-1001", sender: "11", senderName: "@catalog <b>",
                                         text: line, messageID: "-1001:\(n + 1)", role: .operator)
            guard let reply = await app.dispatcher.handle(message) else { continue }
            Self.checkTelegram(reply, line: line)
            Self.checkMatrix(reply, line: line)
            rendered += 1
        }
        #expect(rendered == lines.count, "every line got a reply in-process too")
        let all = first.lines.count + second.lines.count
        #expect(all > declarations.count, "several invocations per command")
        #expect(!codes.isEmpty, "actions were previewed (their confirmation ran too)")
    }

    /// Secrets the paging providers read from the environment (the receivers do not exist:
    /// 127.0.0.1:1 refuses every page).
    static let pagingEnvironment = ["CATALOG_PD_KEY": "pd-key", "CATALOG_OG_KEY": "og-key"]

    /// The console's config: the catalog database, a timeline, and paging (so every handler
    /// the binary can register is there).
    static func config(databaseURL: String, directory: URL) -> String {
        """
        databases:
          - name: main
            url: \(databaseURL)
        timeline: \(directory.appendingPathComponent("timeline.sqlite").path)
        commands: \(TestEnvironment.commandsDirectory)
        postmortems:
          directory: \(directory.appendingPathComponent("pm").path)
        paging:
          people:
            alice: {handle: "@alice <b>&amp;</b>", email: alice@example.com, opsgenie_id: "a-1"}
            bob: "@bob 🔥"
          schedules:
            "night <i>shift</i>":
              timezone: Asia/Kathmandu
              handoff: "23:59"
              rotation: 1h
              start: 2026-02-28
              people: [bob, alice]
          policies:
            default:
              levels:
                - targets: [{schedule: "night <i>shift</i>"}]
                  wait: 5m
                - targets: [{person: bob}, {room: incident}]
                  wait: 10m
          providers:
            pagerduty: {routing_key_env: CATALOG_PD_KEY, url: "http://127.0.0.1:1"}
            opsgenie: {api_key_env: CATALOG_OG_KEY, url: "http://127.0.0.1:1"}
            webhook: {url: "http://127.0.0.1:1/webhook"}
          notify: [chat, pagerduty, opsgenie, webhook]
          auto_page: {sev1: default, sev2: default}
          retry: {base: 10s, cap: 2m, give_up_after: 1h, timeout: 2s}
        """
    }

    @Test func theHTMLCheckCatchesWhatTelegramRefuses() {
        let allowed: Set<String> = ["b", "pre"]
        #expect(Self.htmlProblem("<b>ok &amp; &lt;fine&gt;</b><pre>x</pre>", allowed: allowed) == nil)
        #expect(Self.htmlProblem("<b>open", allowed: allowed) != nil)
        #expect(Self.htmlProblem("a & b", allowed: allowed) != nil)
        #expect(Self.htmlProblem("<script>x</script>", allowed: allowed) != nil)
        #expect(Self.htmlProblem("<b><pre>x</b></pre>", allowed: allowed) != nil)
    }

    /// The application as the binary builds it from `configPath` (built-ins, runbook files, paging).
    static func application(configPath: String) throws -> TriageApplication {
        let config = try TriageConfig.load(path: configPath, environment: pagingEnvironment)
        var logger = Logger(label: "catalog")
        logger.logLevel = .critical
        return try TriageApplication(config: config, plugins: StandardPlugins.all, logger: logger, environment: pagingEnvironment)
    }

    /// Problems Telegram's HTML parser would report in `html` (only the tags Triage may use,
    /// balanced; only the four named entities), or nil.
    static func htmlProblem(_ html: String, allowed: Set<String>) -> String? {
        var stack: [String] = []
        var i = html.startIndex
        while i < html.endIndex {
            let ch = html[i]
            if ch == "<" {
                guard let close = html[i...].firstIndex(of: ">") else { return "unclosed tag" }
                let inner = html[html.index(after: i)..<close]
                if inner.hasPrefix("/") {
                    let name = String(inner.dropFirst())
                    guard stack.popLast() == name else { return "unbalanced </\(name)>" }
                } else {
                    let name = String(inner.prefix { $0.isLetter || $0.isNumber })
                    guard allowed.contains(name) else { return "tag <\(inner)> not allowed" }
                    if !inner.hasSuffix("/") && name != "br" { stack.append(name) }
                }
                i = html.index(after: close)
            } else if ch == "&" {
                let rest = html[i...]
                guard ["&lt;", "&gt;", "&amp;", "&quot;", "&#39;"].contains(where: { rest.hasPrefix($0) }) else {
                    return "bare & at \(html.distance(from: html.startIndex, to: i))"
                }
                i = html.index(after: i)
            } else {
                i = html.index(after: i)
            }
        }
        return stack.isEmpty ? nil : "unclosed <\(stack.last ?? "")>"
    }

    static func checkTelegram(_ reply: Reply, line: String) {
        let renderer = TelegramHTMLRenderer()
        let parts = renderer.parts(reply)
        #expect(!parts.isEmpty, "no Telegram part for \(line.prefix(120))")
        for part in parts {
            if let problem = htmlProblem(part.text, allowed: ["b", "i", "pre", "code"]) {
                Issue.record("Telegram HTML for \(line.prefix(120)): \(problem)")
            }
            #expect(part.length <= 4096 && part.length > 0, "Telegram part of \(part.length) units for \(line.prefix(120))")
        }
        for text in renderer.renderPlain(reply) {
            #expect(text.utf16.count <= 4096, "plain part of \(text.utf16.count) units for \(line.prefix(120))")
        }
    }

    static func checkMatrix(_ reply: Reply, line: String) {
        let splitter = MatrixReplySplitter()
        for part in splitter.split(reply) {
            let content = splitter.content(part, replyTo: "$event")
            guard let data = try? JSONEncoder().encode(content) else {
                Issue.record("Matrix content not JSON for \(line.prefix(120))")
                continue
            }
            #expect(data.count <= 65_536 - 1_000, "Matrix event of \(data.count) bytes for \(line.prefix(120))")
            if let html = content.formattedBody,
               let problem = htmlProblem(html, allowed: ["p", "b", "i", "strong", "em", "code", "pre", "table", "thead", "tbody",
                                                         "tr", "th", "td", "br", "h4", "h3", "ul", "li", "blockquote", "span", "font"]) {
                Issue.record("Matrix HTML for \(line.prefix(120)): \(problem)")
            }
        }
    }

    /// Values typed for each argument type, hostile ones included.
    static func values(for argument: ArgumentDeclaration) -> [String] {
        switch argument.type {
        case .identifier:
            return names.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\"" } + ["extremes", "b", "\"seq \\\"max\\\" <b>\""]
                + ["\"ix dup 2\"", "\"ix <b>&quot;</b>\""]
        case .integer(let min, let max):
            return ["\(min)", "\(max)", "\(Int.max)", "-1"]
        case .duration:
            return ["0s", "1d", "999999999999w", "1e9"]
        case .choice(let words):
            return words
        case .boolean:
            return [""]
        case .string:
            // "default" and "alice" name the paging policy and person: /page runs for real.
            return ["\"<b>&amp;\\\"x\\\"</b>\"", "🔥", "\"\u{1}\u{7}ctl\"", "default", "alice"]
        case .text:
            return ["<b>bold</b> & \"quotes\" 'single' 🔥 \u{1F468}\u{200D}\u{1F469}", String(repeating: "👩‍👩‍👧", count: 400)]
        }
    }

    /// Command lines for `d`: its required arguments with each hostile value, and each
    /// optional argument on its own.
    static func invocations(_ d: CommandDeclaration) -> [String] {
        let name = "/" + d.words.joined(separator: " ")
        let required = d.arguments.filter(\.isRequired)
        let optional = d.arguments.filter { !$0.isRequired }
        func typed(_ a: ArgumentDeclaration, _ v: String) -> String {
            if a.isFlag { return a.type == .boolean ? "--\(a.name)" : "--\(a.name) \(v)" }
            return v
        }
        func base(_ pick: Int) -> String {
            ([name] + required.map { a in
                let vs = values(for: a)
                return typed(a, vs[pick % vs.count])
            }).joined(separator: " ")
        }
        var out: [String] = []
        let variants = max(1, required.map { values(for: $0).count }.max() ?? 1)
        for pick in 0..<variants { out.append(base(pick)) }
        for a in optional {
            for v in values(for: a).prefix(3) { out.append(base(0) + " " + typed(a, v)) }
        }
        return out
    }

    static func confirmationCodes(in reply: String) -> [String] {
        var codes: [String] = []
        let lines = reply.components(separatedBy: "\n")
        for line in lines {
            guard let r = line.range(of: "/confirm ") else { continue }
            let code = line[r.upperBound...].prefix { $0.isLetter || $0.isNumber }
            if code.count == 8 { codes.append(String(code)) }
        }
        return codes
    }

    struct ConsoleRun {
        var lines: [String]
        var replies: [String]
    }

    /// Pipes `lines` into `triage console`, each followed by `/ping` as a marker: the text
    /// between two pongs is the reply to the line in between, and must not be empty.
    static func console(_ lines: [String], config: String) async throws -> ConsoleRun {
        let script = lines.map { $0 + "\n/ping" }.joined(separator: "\n") + "\n"
        let out = try await ProcessRunner.run(TestEnvironment.binary!, ["console", "--config", config], input: script,
                                              environment: pagingEnvironment, directory: TestEnvironment.repositoryRoot)
        #expect(out.status == 0, "the console died (status \(out.status)): \(out.stderr.suffix(2000))")
        var replies: [String] = []
        var current = ""
        for line in out.stdout.components(separatedBy: "\n") {
            if line.hasPrefix("pong: Triage") {
                replies.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            } else {
                current += line + "\n"
            }
        }
        #expect(replies.count == lines.count, "\(lines.count) commands, \(replies.count) answered; the last answered: \(lines.prefix(replies.count).last ?? "-")")
        for (line, reply) in zip(lines, replies) {
            #expect(!reply.isEmpty, "no reply to \(line.prefix(200))")
            #expect(!reply.contains("Internal error"), "\(line.prefix(200)) → \(reply.prefix(300))")
        }
        return ConsoleRun(lines: lines, replies: replies)
    }
}
