/// Removes secrets from text before it leaves Triage: chat replies (every renderer), the
/// timeline, postmortems, logs of database errors.
///
/// One function, ``redact(_:)``, used everywhere. It replaces, with `***`:
/// - the password of every URL with user info (`scheme://user:SECRET@host`, valid or
///   malformed: a password holding `@`, `/` or a bad `%` escape is still cut at the last `@`);
/// - the value after every word ending in `password` or `secret` (and `passwd`, `pwd`,
///   `passphrase`, libpq's `scram_client_key`/`scram_server_key`)
///   followed by `=`, `:` or `=>`: conninfo `password=…` quoted or not, URL query
///   `?password=…`, `PGPASSWORD=…`, `sslpassword=…`, JSON `"password": "…"`, SQL
///   `WHERE password = '…'`;
/// - the string literal after the word `PASSWORD` in SQL (`PASSWORD '…'`, `ENCRYPTED
///   PASSWORD E'…'`, `PASSWORD $$…$$`, postgres_fdw's `OPTIONS (password '…')`);
/// - every string literal inside a call to a function that takes keys or passwords
///   (`pgp_sym_encrypt(…, 'key')`, `pgp_sym_decrypt`, `pgp_pub_decrypt`, `encrypt`,
///   `decrypt`, `encrypt_iv`, `decrypt_iv`, `hmac`, `crypt`);
/// - stored password hashes (`SCRAM-SHA-256$…`, `md5` + 32 hex digits);
/// - the quoted fragment in libpq's connection-string parse errors.
///
/// Text cut short (pg_stat_activity keeps 1 kB of a query, some checks keep 200 characters)
/// may end inside a literal: everything to the end is then redacted. It errs towards
/// redacting too much: a backslash always escapes the next character inside a literal.
/// Redacting twice changes nothing more (a literal already cut to `'***` stays as it is), so
/// text rendered from a redacted reply can be redacted again without losing the rest.
public enum Redaction {
    /// What replaces a secret.
    public static let mask = "***"

    /// `text` with every secret replaced by ``mask``; `text` itself when there is none.
    public static func redact(_ text: String) -> String {
        guard mightContainSecret(text) else { return text }   // most text: checked in place, not copied
        var scanner = Scanner(Array(text.utf8))
        scanner.run()
        guard scanner.changed else { return text }
        return String(decoding: scanner.out, as: UTF8.self)
    }

    /// Functions whose string arguments are keys, passwords or the secret data itself.
    static let secretFunctions: Set<String> = [
        "pgp_sym_encrypt", "pgp_sym_encrypt_bytea", "pgp_sym_decrypt", "pgp_sym_decrypt_bytea",
        "pgp_pub_decrypt", "pgp_pub_decrypt_bytea", "encrypt", "decrypt", "encrypt_iv", "decrypt_iv",
        "hmac", "crypt",
    ]

    /// Words whose following value is a secret (`word=value`, `word 'literal'`).
    static func isSecretWord(_ lower: [UInt8]) -> Bool {
        lower.hasSuffix("password") || lower == Array("passwd".utf8) || lower == Array("pwd".utf8)
            || lower.hasSuffix("passphrase") || lower.hasSuffix("secret")
            || lower == Array("scram_client_key".utf8) || lower == Array("scram_server_key".utf8)
    }

    /// A cheap pre-check so that the long outputs of most commands are not scanned: whether
    /// any word a rule starts from occurs (ASCII case-insensitive).
    static func mightContainSecret(_ text: String) -> Bool {
        if let found = text.utf8.withContiguousStorageIfAvailable({ mightContainSecret($0) }) { return found }
        return mightContainSecret(Array(text.utf8))
    }

    static func mightContainSecret(_ b: [UInt8]) -> Bool {
        b.withUnsafeBufferPointer { mightContainSecret($0) }
    }

    static func mightContainSecret(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = p.count
        func at(_ i: Int, _ t: StaticString) -> Bool {
            let len = t.utf8CodeUnitCount
            guard i + len <= n else { return false }
            let s = t.utf8Start
            for k in 0..<len where (p[i + k] | (isLetter(p[i + k]) ? 0x20 : 0)) != s[k] { return false }
            return true
        }
        var i = 0
        while i < n {
            // Most letters start no rule word, and most that do are not followed by its
            // second letter: both are ruled out before any comparison.
            let c = p[i] | 0x20
            let next = i + 1 < n ? p[i + 1] | 0x20 : 0
            switch c {
            case UInt8(ascii: "p"): if next != UInt8(ascii: "a") && next != UInt8(ascii: "w") && next != UInt8(ascii: "g") && next != UInt8(ascii: "e") { i += 1; continue }
            case UInt8(ascii: ":"): if next != UInt8(ascii: "/") { i += 1; continue }
            case UInt8(ascii: "e"): if next != UInt8(ascii: "n") { i += 1; continue }
            case UInt8(ascii: "d"): if next != UInt8(ascii: "e") { i += 1; continue }
            case UInt8(ascii: "h"): if next != UInt8(ascii: "m") { i += 1; continue }
            case UInt8(ascii: "c"): if next != UInt8(ascii: "r") && next != UInt8(ascii: "o") { i += 1; continue }
            case UInt8(ascii: "s"): if next != UInt8(ascii: "c") && next != UInt8(ascii: "e") { i += 1; continue }
            case UInt8(ascii: "m"): if next != UInt8(ascii: "d") { i += 1; continue }
            default: i += 1; continue
            }
            switch c {
            case UInt8(ascii: "p"):
                if at(i, "pass") || at(i, "pwd") || at(i, "pgp_") || at(i, "percent-encoded") { return true }
            case UInt8(ascii: ":"):
                if at(i, "://") { return true }
            case UInt8(ascii: "e"):
                if at(i, "encrypt") { return true }
            case UInt8(ascii: "d"):
                if at(i, "decrypt") { return true }
            case UInt8(ascii: "h"):
                if at(i, "hmac") { return true }
            case UInt8(ascii: "c"):
                if at(i, "crypt") || at(i, "connection info") { return true }
            case UInt8(ascii: "s"):
                if at(i, "scram-sha") || at(i, "scram_") || at(i, "secret") { return true }
            case UInt8(ascii: "m"):
                if at(i, "md5") { return true }
            default:
                break
            }
            i += 1
        }
        return false
    }

    static func isLetter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
    static func isWordChar(_ c: UInt8) -> Bool { isLetter(c) || (c >= 48 && c <= 57) || c == UInt8(ascii: "_") }
    static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 || c == 12 }
    static func isHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102) }

    /// One left-to-right pass that copies the input to `out`, masking secrets.
    struct Scanner {
        let b: [UInt8]
        var out: [UInt8] = []
        var i = 0
        var changed = false

        init(_ bytes: [UInt8]) {
            b = bytes
            out.reserveCapacity(bytes.count)
        }

        mutating func run() {
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: ":"), at("://") {
                    url()
                } else if Redaction.isWordChar(c), i == 0 || !Redaction.isWordChar(b[i - 1]) {
                    word()
                } else if c == UInt8(ascii: "\""), libpqQuotedFragment() {
                    continue
                } else {
                    out.append(c)
                    i += 1
                }
            }
        }

        func at(_ s: String, _ from: Int? = nil) -> Bool {
            let p = from ?? i
            let t = Array(s.utf8)
            guard p + t.count <= b.count else { return false }
            for k in 0..<t.count where (b[p + k] | (Redaction.isLetter(b[p + k]) ? 0x20 : 0)) != t[k] { return false }
            return true
        }

        mutating func mask() {
            out.append(contentsOf: Redaction.mask.utf8)
            changed = true
        }

        // MARK: URLs

        /// At `://`: masks the password of the user info, if any. The authority ends at
        /// whitespace, a quote or `<>`; its user info ends at the last `@` in it.
        mutating func url() {
            out.append(contentsOf: "://".utf8)
            i += 3
            var end = i
            var lastAt: Int?
            while end < b.count {
                let c = b[end]
                if Redaction.isSpace(c) || c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "<")
                    || c == UInt8(ascii: ">") || c == UInt8(ascii: "`") { break }
                if c == UInt8(ascii: "@") { lastAt = end }
                end += 1
            }
            guard let at = lastAt, let colon = b[i..<at].firstIndex(of: UInt8(ascii: ":")) else { return }
            out.append(contentsOf: b[i...colon])
            mask()
            i = at
        }

        // MARK: Words

        /// At the start of a word: secret words, secret functions, stored hashes.
        mutating func word() {
            var end = i
            while end < b.count, Redaction.isWordChar(b[end]) { end += 1 }
            let lower = b[i..<end].map { Redaction.isLetter($0) ? $0 | 0x20 : $0 }
            // SCRAM-SHA-256$iterations:salt$key:key
            if lower == Array("scram".utf8), at("scram-sha-256$") {
                out.append(contentsOf: b[i..<(i + 14)])
                i += 14
                mask()
                while i < b.count, !Redaction.isSpace(b[i]), b[i] != UInt8(ascii: "'"), b[i] != UInt8(ascii: "\"") { i += 1 }
                return
            }
            if lower.count == 35, lower.starts(with: Array("md5".utf8)), lower[3...].allSatisfy(Redaction.isHex) {
                out.append(contentsOf: "md5".utf8)
                mask()
                i = end
                return
            }
            out.append(contentsOf: b[i..<end])
            i = end
            if Redaction.isSecretWord(lower) {
                secretValue()
            } else if Redaction.secretFunctions.contains(String(decoding: lower, as: UTF8.self)) {
                secretCall()
            }
        }

        /// After a secret word: `= value`, `: value`, `=> value`, or a string literal.
        mutating func secretValue() {
            var p = i
            // `"password": …` — the word's closing quote.
            if p < b.count, b[p] == UInt8(ascii: "\"") || b[p] == UInt8(ascii: "'"), p + 1 < b.count {
                var q = p + 1
                while q < b.count, Redaction.isSpace(b[q]) { q += 1 }
                if q < b.count, b[q] == UInt8(ascii: ":") || b[q] == UInt8(ascii: "=") { p += 1 }
            }
            while p < b.count, Redaction.isSpace(b[p]) { p += 1 }
            guard p < b.count else { return }
            if b[p] == UInt8(ascii: "=") || b[p] == UInt8(ascii: ":") {
                p += 1
                if p < b.count, b[p] == UInt8(ascii: ">") || b[p] == UInt8(ascii: "=") { p += 1 }
                while p < b.count, Redaction.isSpace(b[p]) { p += 1 }
                guard p < b.count else { return }
                out.append(contentsOf: b[i..<p])
                i = p
                // `'… password=''s3cret'' …'`: a conninfo quoted inside a SQL literal.
                if b[p] == UInt8(ascii: "'"), p + 1 < b.count, b[p + 1] == UInt8(ascii: "'") {
                    out.append(contentsOf: "''".utf8)
                    mask()
                    var q = p + 2
                    if alreadyMasked(at: q), !(q + 4 < b.count && b[q + 3] == UInt8(ascii: "'") && b[q + 4] == UInt8(ascii: "'")) {
                        i = q + 3
                        return
                    }
                    while q + 1 < b.count, !(b[q] == UInt8(ascii: "'") && b[q + 1] == UInt8(ascii: "'")) { q += 1 }
                    if q + 1 < b.count {
                        out.append(contentsOf: "''".utf8)
                        i = q + 2
                    } else {
                        i = b.count
                    }
                    return
                }
                if literal() { return }
                if b[p] == UInt8(ascii: "\"") {
                    quoted(UInt8(ascii: "\""))
                    return
                }
                // `$1` is a parameter, not a value.
                if b[p] == UInt8(ascii: "$"), p + 1 < b.count, b[p + 1] >= 48, b[p + 1] <= 57 { return }
                var end = p
                while end < b.count {
                    let c = b[end]
                    if Redaction.isSpace(c) || c == UInt8(ascii: "&") || c == UInt8(ascii: ",") || c == UInt8(ascii: ";")
                        || c == UInt8(ascii: ")") || c == UInt8(ascii: "(") || c == UInt8(ascii: "'") || c == UInt8(ascii: "\"")
                        || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") { break }
                    if c == UInt8(ascii: "\\") { end += 1 }
                    end += 1
                }
                end = min(end, b.count)
                // A function call (`password = crypt(…)`) is not a value.
                if end == p || (end < b.count && b[end] == UInt8(ascii: "(")) { return }
                mask()
                i = end
                return
            }
            let before = i
            i = p
            if literalStarts(at: p) {
                out.append(contentsOf: b[before..<p])
                _ = literal()
            } else {
                i = before
            }
        }

        /// After a secret function's name: every literal in its argument list is masked.
        mutating func secretCall() {
            var p = i
            while p < b.count, Redaction.isSpace(b[p]) { p += 1 }
            guard p < b.count, b[p] == UInt8(ascii: "(") else { return }
            out.append(contentsOf: b[i...p])
            i = p + 1
            var depth = 1
            while i < b.count, depth > 0 {
                let c = b[i]
                if literalStarts(at: i) {
                    _ = literal()
                    continue
                }
                if c == UInt8(ascii: "(") { depth += 1 }
                if c == UInt8(ascii: ")") { depth -= 1 }
                out.append(c)
                i += 1
            }
        }

        // MARK: Literals

        func literalStarts(at p: Int) -> Bool {
            guard p < b.count else { return false }
            let c = b[p]
            if c == UInt8(ascii: "'") { return true }
            if (c | 0x20) == UInt8(ascii: "e"), p + 1 < b.count, b[p + 1] == UInt8(ascii: "'") { return true }
            if (c | 0x20) == UInt8(ascii: "u"), p + 2 < b.count, b[p + 1] == UInt8(ascii: "&"), b[p + 2] == UInt8(ascii: "'") { return true }
            if c == UInt8(ascii: "$") { return dollarTag(at: p) != nil }
            return false
        }

        /// Whether the mask starts at `p`.
        func alreadyMasked(at p: Int) -> Bool {
            p + 3 <= b.count && b[p] == UInt8(ascii: "*") && b[p + 1] == UInt8(ascii: "*") && b[p + 2] == UInt8(ascii: "*")
        }

        /// `$tag$` or `$$` starting at `p`: its length.
        func dollarTag(at p: Int) -> Int? {
            guard p < b.count, b[p] == UInt8(ascii: "$") else { return nil }
            var q = p + 1
            if q < b.count, b[q] >= 48, b[q] <= 57 { return nil }
            while q < b.count, Redaction.isWordChar(b[q]) { q += 1 }
            guard q < b.count, b[q] == UInt8(ascii: "$") else { return nil }
            return q - p + 1
        }

        /// At a literal (`'…'`, `E'…'`, `U&'…'`, `$tag$…$tag$`): copies its delimiters and
        /// masks its content. An unterminated literal is masked to the end.
        mutating func literal() -> Bool {
            guard literalStarts(at: i) else { return false }
            if b[i] == UInt8(ascii: "$"), let n = dollarTag(at: i) {
                let tag = Array(b[i..<(i + n)])
                out.append(contentsOf: tag)
                mask()
                var q = i + n
                if alreadyMasked(at: q), q + 3 + n > b.count || Array(b[(q + 3)..<(q + 3 + n)]) != tag {
                    i = q + 3
                    return true
                }
                while q + n <= b.count, Array(b[q..<(q + n)]) != tag { q += 1 }
                if q + n <= b.count {
                    out.append(contentsOf: tag)
                    i = q + n
                } else {
                    i = b.count
                }
                return true
            }
            while b[i] != UInt8(ascii: "'") {
                out.append(b[i])
                i += 1
            }
            quoted(UInt8(ascii: "'"))
            return true
        }

        /// At an opening `quote`: masks up to the closing one (doubled quotes and backslashes escape).
        mutating func quoted(_ quote: UInt8) {
            out.append(quote)
            mask()
            var q = i + 1
            // Already masked and cut short (`'***` then no closing quote): keep it as it is.
            if alreadyMasked(at: q), q + 3 == b.count || b[q + 3] != quote {
                i = q + 3
                return
            }
            while q < b.count {
                if b[q] == UInt8(ascii: "\\") {
                    q += 2
                    continue
                }
                if b[q] == quote {
                    if q + 1 < b.count, b[q + 1] == quote {
                        q += 2
                        continue
                    }
                    out.append(quote)
                    i = q + 1
                    return
                }
                q += 1
            }
            i = b.count
        }

        // MARK: libpq parse errors

        /// libpq's connection-string errors quote a fragment of the string
        /// (`invalid percent-encoded token: "p%zz"`, `missing "=" after "s3cret" in connection
        /// info string`): those fragments are masked.
        mutating func libpqQuotedFragment() -> Bool {
            guard out.last == UInt8(ascii: " ") else { return false }
            let window = out.suffix(40)
            let before = String(decoding: window, as: UTF8.self).lowercased()
            let rest = String(decoding: b[i..<min(b.count, i + 400)], as: UTF8.self).lowercased()
            let afterQuote = rest.dropFirst().split(separator: "\"", maxSplits: 1, omittingEmptySubsequences: false)
            let tail = afterQuote.count > 1 ? String(afterQuote[1]) : ""
            let isFragment = before.hasSuffix("percent-encoded token: ") || before.hasSuffix("percent-encoded value: ")
                || (before.hasSuffix("after ") && tail.hasPrefix(" in connection info string"))
                || before.hasSuffix("invalid uri propagated to internal parser routine: ")
                || (tail.hasPrefix(" in connection info string") || tail.hasPrefix(" in uri"))
            guard isFragment else { return false }
            quoted(UInt8(ascii: "\""))
            return true
        }
    }
}

extension Array where Element == UInt8 {
    func hasSuffix(_ s: String) -> Bool {
        let t = Array(s.utf8)
        return count >= t.count && Array(self[(count - t.count)...]) == t
    }
}
