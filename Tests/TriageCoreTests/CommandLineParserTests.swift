import Testing
@testable import TriageCore

@Suite struct CommandLineParserTests {
    let parser = CommandLineParser()

    @Test func splitsNameArgumentsAndFlags() throws {
        let p = try parser.parse("/pg idle --older 10m  extra")
        #expect(p.name == "pg")
        #expect(p.tokens.map(\.text) == ["idle", "--older", "10m", "extra"])
        #expect(p.tokens[1].isFlag)
    }

    @Test func quotedTextStaysTogetherAndIsNeverAFlag() throws {
        let p = try parser.parse(#"/note "DB is down" 'single quoted' "--not-a-flag" "a \"q\"""#)
        #expect(p.tokens.map(\.text) == ["DB is down", "single quoted", "--not-a-flag", #"a "q""#])
        #expect(p.tokens[2].isFlag == false)
    }

    @Test func apostropheInsideAWordIsALetter() throws {
        let p = try parser.parse("/note don't panic")
        #expect(p.tokens.map(\.text) == ["don't", "panic"])
    }

    @Test func botMentionAndCase() throws {
        let p = try parser.parse("/PG@TriageBot Connections")
        #expect(p.name == "pg")
        #expect(p.botName == "TriageBot")
        #expect(p.tokens.first?.text == "Connections")
    }

    @Test func phoneSmartQuotesAndDashesAreNormalised() throws {
        let p = try parser.parse("/pg idle \u{2014}older 5m /note \u{201C}slow queries\u{201D} \u{2014} see")
        #expect(p.tokens.map(\.text) == ["idle", "--older", "5m", "/note", "slow queries", "\u{2014}", "see"])
        #expect(TextNormalizer.normalize("a\u{00A0}b \u{2018}x\u{2019}") == "a b 'x'")
    }

    @Test func unicodeArgumentsSurvive() throws {
        let p = try parser.parse("/note Datenbank überlastet 🔥 日本")
        #expect(p.tokens.map(\.text) == ["Datenbank", "überlastet", "🔥", "日本"])
    }

    @Test(arguments: ["", "   ", "hello", "/", "/ pg", "/\"pg\"", "/pg;drop", "/@bot"])
    func garbageIsAUsageErrorNeverACrash(_ line: String) {
        #expect(throws: UsageError.self) { try parser.parse(line) }
    }

    @Test func unterminatedQuoteIsReported() {
        #expect(throws: UsageError.self) { try parser.parse("/note \"unterminated") }
        do {
            _ = try parser.parse("/note \"unterminated")
        } catch {
            #expect("\(error)".contains("Unterminated quote"))
        }
    }

    @Test func recognisesCommandsOnly() {
        #expect(parser.isCommand("/pg connections"))
        #expect(parser.isCommand("  /help"))
        #expect(!parser.isCommand("just chatting /pg"))
        #expect(!parser.isCommand("/"))
        #expect(!parser.isCommand("/ 1"))
        #expect(CommandLineParser(prefixes: ["/", "!"]).isCommand("!pg connections"))
    }

    @Test func randomBytesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<40, using: &rng)
            let scalars = (0..<n).compactMap { _ in Unicode.Scalar(UInt32.random(in: 0..<0x3000, using: &rng)) }
            var s = "/"
            s.unicodeScalars.append(contentsOf: scalars)
            _ = try? parser.parse(s)
        }
        #expect(Bool(true))
    }
}
