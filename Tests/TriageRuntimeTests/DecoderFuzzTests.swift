import Foundation
import Logging
import Testing
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageTesting
import TriageCore
import TriageHTTP
@testable import TriageMatrix
@testable import TriageTelegram

/// Random JSON into each platform's decoder: Telegram updates (through the batch decoder and
/// the command finder) and Matrix syncs (through the sync reader), plus both error parsers.
/// Nothing may trap; the process dying fails the whole run.
@Suite struct DecoderFuzzTests {
    /// A JSON value written as text, so numbers JSONSerialization would never produce
    /// (`1e400`, 30-digit integers, `-0`) can be sent.
    indirect enum JSON {
        case null, bool(Bool), number(String), string(String), array([JSON]), object([(String, JSON)])

        var text: String {
            switch self {
            case .null: return "null"
            case .bool(let b): return b ? "true" : "false"
            case .number(let n): return n
            case .string(let s):
                var out = "\""
                for u in s.unicodeScalars {
                    switch u {
                    case "\"": out += "\\\""
                    case "\\": out += "\\\\"
                    case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
                    default: out.unicodeScalars.append(u)
                    }
                }
                return out + "\""
            case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
            case .object(let o): return "{" + o.map { JSON.string($0.0).text + ":" + $0.1.text }.joined(separator: ",") + "}"
            }
        }
    }

    struct Fuzzer {
        var rng = SystemRandomNumberGenerator()
        static let numbers = ["0", "-0", "1", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
                              "18446744073709551615", "-18446744073709551616", "1e400", "-1e400", "1e308", "4.9e-324",
                              "2147483647", "2147483648", "-2147483649", "123456789012345678901234567890", "0.5", "1e2", "3.0"]
        static let strings = ["", "/ping", "/pg sequences", "🔥 /ping", "\u{0}", "/note a\u{0}b", "<b>&amp;</b>", "!ping",
                              String(repeating: "👩‍👩‍👧", count: 3000), "\u{202E}rtl", "\u{FFFF}", "@bot:hs", "!ops:hs",
                              "m.text", "m.room.message", "bot_command", "private", "group", "join", "leave"]

        mutating func int(_ n: Int) -> Int { Int.random(in: 0..<n, using: &rng) }

        mutating func scalar() -> JSON {
            switch int(5) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .number(Self.numbers[int(Self.numbers.count)])
            case 3: return .number(String(Int64.random(in: .min ... .max, using: &rng)))
            default: return .string(Self.strings[int(Self.strings.count)])
            }
        }

        mutating func random(depth: Int) -> JSON {
            guard depth > 0, int(3) == 0 else { return scalar() }
            if Bool.random(using: &rng) {
                return .array((0..<int(4)).map { _ in random(depth: depth - 1) })
            }
            return .object((0..<int(4)).map { _ in (Self.strings[int(Self.strings.count)], random(depth: depth - 1)) })
        }

        /// `value` with some of its nodes replaced, removed or duplicated.
        mutating func mutate(_ value: JSON, depth: Int = 0) -> JSON {
            if int(12) == 0 { return random(depth: 2) }
            switch value {
            case .array(let a):
                var out = a.map { mutate($0, depth: depth + 1) }
                if int(6) == 0, !out.isEmpty { out.remove(at: int(out.count)) }
                if int(6) == 0, let first = out.first { out.append(first) }
                return .array(out)
            case .object(let o):
                var out = o.map { ($0.0, mutate($0.1, depth: depth + 1)) }
                if int(5) == 0, !out.isEmpty { out.remove(at: int(out.count)) }
                if int(8) == 0 { out.append((Self.strings[int(Self.strings.count)], random(depth: 2))) }
                return .object(out)
            default:
                return int(4) == 0 ? scalar() : value
            }
        }
    }

    static func telegramUpdate(_ id: Int) -> JSON {
        .object([("update_id", .number(String(id))), ("message", .object([
            ("message_id", .number("10")), ("date", .number("1700000000")),
            ("chat", .object([("id", .number("-2002")), ("type", .string("group")), ("title", .string("ops"))])),
            ("from", .object([("id", .number("11")), ("is_bot", .bool(false)), ("first_name", .string("a")), ("username", .string("u"))])),
            ("text", .string("🔥 /pg@triage_bot idle --older 5m")),
            ("entities", .array([.object([("type", .string("bot_command")), ("offset", .number("3")), ("length", .number("14"))])])),
        ]))])
    }

    @Test func entityOffsetsNearIntMaxAreRefusedNotTrapped() {
        let huge: [(Int, Int)] = [(Int.max, Int.max), (1, Int.max), (Int.max, 2), (-1, 5), (Int.min, Int.max),
                                  (0, Int.min), (Int.max - 1, 2), (2, Int.max - 1), (0, 6), (5, 1)]
        for (offset, length) in huge {
            let found = TelegramCommandText.find(text: "/ping", entities: [TelegramUpdate.Entity(type: "bot_command", offset: offset, length: length)])
            #expect(found == nil, "offset \(offset) length \(length)")
        }
        #expect(TelegramCommandText.find(text: "/ping", entities: [TelegramUpdate.Entity(type: "bot_command", offset: 0, length: 5)])?.line == "/ping")
    }

    @Test func randomTelegramUpdates() throws {
        var fuzz = Fuzzer()
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        let http = HTTPClient(logger: logger)
        defer { http.shutdown() }
        let platform = TelegramPlatform(config: TelegramConfig(token: "1:x", botUsername: "triage_bot", chats: [-2002, 5],
                                                               users: [11: .operator], defaultRole: .viewer),
                                        http: http, logger: logger)
        var decodedUpdates = 0
        for round in 0..<3000 {
            let batch = JSON.array((0..<fuzz.int(4)).map { _ in fuzz.mutate(Self.telegramUpdate(round)) })
            let text = round % 10 == 0 ? fuzz.random(depth: 4).text : "{\"ok\":true,\"result\":" + batch.text + "}"
            if let envelope = try? JSONDecoder().decode(TelegramAPI.Envelope<TelegramUpdateBatch>.self, from: Data(text.utf8)) {
                for element in envelope.result?.elements ?? [] {
                    _ = element.updateID
                    guard case .update(let update) = element else { continue }
                    decodedUpdates += 1
                    if let message = platform.inbound(update) {
                        _ = try? CommandLineParser().parse(message.text)
                    }
                    if let m = update.message, let t = m.text { _ = TelegramCommandText.find(text: t, entities: m.entities ?? []) }
                }
            }
            // The error envelope with random parameters (retry_after 1e400, negative, strings).
            let errorText = fuzz.mutate(.object([("ok", .bool(false)), ("error_code", .number("429")), ("description", .string("x")),
                                                  ("parameters", .object([("retry_after", fuzz.scalar()), ("migrate_to_chat_id", fuzz.scalar())]))])).text
            if let e = try? JSONDecoder().decode(TelegramAPI.ErrorEnvelope.self, from: Data(errorText.utf8)) {
                let error = TelegramAPIError(.api, method: "sendMessage", status: e.error_code ?? 0, message: e.description ?? "",
                                             retryAfter: e.parameters?.retry_after)
                let wait = error.retryAfter ?? 0
                #expect(wait >= 0 && wait <= 3600)
                _ = TotalNumber.nanoseconds(wait)
            }
        }
        #expect(decodedUpdates > 30, "the mutations keep many updates decodable, so the later stages run")
    }

    static func matrixSync(_ n: Int) -> JSON {
        func event(_ i: Int) -> JSON {
            .object([("type", .string("m.room.message")), ("event_id", .string("$e\(n)-\(i)")), ("sender", .string("@alice:hs")),
                     ("origin_server_ts", .number("1700000000000")),
                     ("content", .object([("msgtype", .string("m.text")), ("body", .string("!pg sequences"))])),
                     ("unsigned", .object([("membership", .string("join"))]))])
        }
        return .object([("next_batch", .string("s\(n)")), ("rooms", .object([
            ("join", .object([("!ops:hs", .object([("timeline", .object([
                ("events", .array((0..<3).map(event))), ("limited", .bool(true)), ("prev_batch", .string("p\(n)")),
            ]))]))])),
            ("invite", .object([("!new:hs", .object([]))])),
        ]))])
    }

    @Test func randomMatrixSyncs() throws {
        var fuzz = Fuzzer()
        let reader = MatrixSyncReader(config: MatrixConfig(homeserver: "http://127.0.0.1:1", userID: "@bot:hs", password: "x",
                                                           rooms: ["!ops:hs"], users: ["@alice:hs": .operator]))
        var messages = 0
        for round in 0..<3000 {
            let text = round % 10 == 0 ? fuzz.random(depth: 5).text : fuzz.mutate(Self.matrixSync(round)).text
            if let json = try? MatrixSync.decode(Data(text.utf8)) {
                if let result = try? reader.read(json, snapshot: false) {
                    messages += result.messages.count
                    for m in result.messages { _ = try? CommandLineParser(prefixes: ["/", "!"]).parse(m.text) }
                }
                _ = try? reader.read(json, snapshot: true)
            }
            let errorText = fuzz.mutate(.object([("errcode", .string("M_LIMIT_EXCEEDED")), ("error", .string("slow down")),
                                                  ("retry_after_ms", fuzz.scalar())])).text
            let error = MatrixError(response: 429, headers: ["retry-after": ["1e400", "-5", "nan", "3"][fuzz.int(4)]],
                                    body: Data(errorText.utf8), operation: "send")
            let wait = error.retryAfter ?? 0
            #expect(wait >= 0 && wait <= 3600, "\(errorText)")
        }
        #expect(messages > 30, "the mutations keep many syncs readable, so the later stages run")
    }
}
