import Testing
@testable import TriageCore

@Suite struct CommandRegistryTests {
    let registry = CommandRegistry([
        CommandDeclaration(words: ["pg", "idle"], summary: "Idle sessions.", arguments: [
            ArgumentDeclaration(name: "older", type: .duration, isFlag: true, defaultValue: "10m"),
            ArgumentDeclaration(name: "limit", type: .integer(min: 1, max: 100), isFlag: true, defaultValue: "20"),
        ]),
        CommandDeclaration(words: ["pg", "connections"], summary: "Connections."),
        CommandDeclaration(words: ["pg", "slow"], summary: "Slow.", arguments: [
            ArgumentDeclaration(name: "by", type: .choice(["mean", "total"]), isFlag: true, defaultValue: "mean"),
        ]),
        CommandDeclaration(words: ["pg", "vacuum"], summary: "Vacuum.", arguments: [
            ArgumentDeclaration(name: "table", type: .identifier, isRequired: true),
            ArgumentDeclaration(name: "full", type: .boolean, isFlag: true),
        ], kind: .action, role: .operator),
        CommandDeclaration(words: ["note"], summary: "Note.", arguments: [
            ArgumentDeclaration(name: "text", type: .text, isRequired: true),
        ]),
        CommandDeclaration(words: ["incident", "open"], summary: "Open.", arguments: [
            ArgumentDeclaration(name: "severity", type: .choice(["sev1", "sev2"]), isRequired: true),
            ArgumentDeclaration(name: "title", type: .text, isRequired: true),
        ], aliases: [["declare"]]),
    ])
    let parser = CommandLineParser()

    func resolve(_ line: String) throws -> (CommandDeclaration, BoundArguments) {
        try registry.resolve(try parser.parse(line))
    }

    @Test func defaultsAndConversions() throws {
        let (d, args) = try resolve("/pg idle")
        #expect(d.name == "pg idle")
        #expect(args["older"] == .duration(600))
        #expect(args["limit"] == .integer(20))
        let (_, b) = try resolve("/pg idle --older=1h30m --limit 5")
        #expect(b["older"] == .duration(5400))
        #expect(b.int("limit") == 5)
        #expect(b["older"]?.sqlParameter == "5400 seconds")
    }

    @Test func unknownSubcommandSuggests() {
        do {
            _ = try resolve("/pg conections")
            Issue.record("expected an error")
        } catch let e as UsageError {
            #expect(e.code == .unknownCommand)
            #expect(e.suggestions == ["pg connections"])
            #expect(e.description.contains("Did you mean /pg connections?"))
        } catch { Issue.record("\(error)") }
    }

    @Test func unknownCommandSuggests() {
        do {
            _ = try resolve("/nite hello")
            Issue.record("expected an error")
        } catch let e as UsageError {
            #expect(e.suggestions.contains("note"))
        } catch { Issue.record("\(error)") }
    }

    @Test func groupWithoutSubcommandListsThem() {
        #expect(throws: UsageError.self) { try resolve("/pg") }
        do { _ = try resolve("/pg") } catch {
            #expect("\(error)".contains("connections, idle, slow, vacuum"))
        }
    }

    @Test func badArgumentsGiveTheUsageLine() {
        for line in ["/pg idle --older soon", "/pg idle --limit 0", "/pg idle --limit x", "/pg idle --bogus 1",
                     "/pg slow --by median", "/pg vacuum", "/pg idle extra", "/pg idle --older"] {
            do {
                _ = try resolve(line)
                Issue.record("expected an error for \(line)")
            } catch let e as UsageError {
                #expect(e.code == .badArgument, "\(line)")
                #expect(e.usage != nil, "\(line)")
            } catch { Issue.record("\(error)") }
        }
    }

    @Test func textTakesTheRestAndAliasesWork() throws {
        let (_, args) = try resolve("/note db looks --weird today")
        #expect(args.string("text") == "db looks --weird today")
        let (d, a) = try resolve("/declare SEV1 Checkout is down")
        #expect(d.name == "incident open")
        #expect(a.string("severity") == "sev1")
        #expect(a.string("title") == "Checkout is down")
    }

    @Test func booleanFlagsAndIdentifiersAreData() throws {
        let (_, args) = try resolve("/pg vacuum \"users; DROP TABLE x\" --full")
        #expect(args.string("table") == "users; DROP TABLE x")
        #expect(args.flag("full"))
    }

    @Test func usageLines() {
        #expect(registry.declaration(named: "pg idle")?.usage == "/pg idle [--older DURATION] [--limit N]")
        #expect(registry.declaration(named: "pg vacuum")?.usage == "/pg vacuum TABLE [--full]")
        #expect(registry.declaration(named: "declare")?.name == "incident open")
    }

    @Test func helpIsGeneratedAndFilteredByRole() {
        let text = TextRenderer().render(HelpFormatter().overview(registry, role: .viewer))
        #expect(text.contains("/pg idle"))
        #expect(!text.contains("/pg vacuum"))
        let op = TextRenderer().render(HelpFormatter().overview(registry, role: .operator))
        #expect(op.contains("/pg vacuum"))
        let detail = TextRenderer().render(HelpFormatter().detail(registry.declaration(named: "pg idle")!))
        #expect(detail.contains("usage  /pg idle [--older DURATION] [--limit N]"))
        #expect(detail.contains("--older"))
    }

    @Test func durations() {
        #expect(DurationParser.seconds("90s") == 90)
        #expect(DurationParser.seconds("10m") == 600)
        #expect(DurationParser.seconds("2h") == 7200)
        #expect(DurationParser.seconds("1d") == 86400)
        #expect(DurationParser.seconds("1h30m") == 5400)
        #expect(DurationParser.seconds("15") == 900)
        #expect(DurationParser.seconds("0s") == 0)
        #expect(DurationParser.seconds("") == nil)
        #expect(DurationParser.seconds("abc") == nil)
        #expect(DurationParser.seconds("5x") == nil)
        #expect(DurationParser.seconds("10m5") == nil)
        #expect(DurationParser.seconds("-5m") == nil)
        #expect(DurationParser.seconds("99999999999999999999d") == nil)
        #expect(DurationFormatter.format(seconds: 3725) == "1h02m")
        #expect(DurationFormatter.format(seconds: 65) == "1m05s")
    }
}
