/// Checks a libpq connection string (a `postgresql://` URL or a `key=value` conninfo string)
/// before libpq sees it, because libpq's own parse errors quote the string, password
/// included. ``problem(in:)`` names the part that is wrong and never repeats any of the
/// string's text, so its result can go to the config checker, a chat reply or a log.
public enum ConnectionString {
    /// The keywords libpq 15–18 accepts, in conninfo strings and as URL query parameters
    /// (URLs also take `ssl=true`).
    public static let keywords: Set<String> = [
        "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "channel_binding", "connect_timeout",
        "client_encoding", "options", "application_name", "fallback_application_name", "keepalives", "keepalives_idle",
        "keepalives_interval", "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode",
        "requiressl", "sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode", "sslrootcert", "sslcrl",
        "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname",
        "gsslib", "gssdelegation", "service", "target_session_attrs", "load_balance_hosts", "require_auth",
        "sslnegotiation", "sslkeylogfile", "min_protocol_version", "max_protocol_version", "scram_client_key",
        "scram_server_key", "oauth_issuer", "oauth_client_id", "oauth_client_secret", "oauth_scope",
    ]

    /// What is wrong with `string`, or nil when libpq will parse it. The text never contains
    /// any part of `string` other than a keyword libpq knows.
    public static func problem(in string: String) -> String? {
        let s = Array(string.utf8)
        if s.isEmpty { return nil }
        if string.hasPrefix("postgresql://") || string.hasPrefix("postgres://") {
            return urlProblem(s, schemeLength: string.hasPrefix("postgresql://") ? 13 : 11)
        }
        if string.contains("://") {
            return "the URL must start with postgresql:// or postgres://"
        }
        return conninfoProblem(s)
    }

    // MARK: URLs

    static func urlProblem(_ s: [UInt8], schemeLength: Int) -> String? {
        var rest = Array(s[schemeLength...])
        // As libpq reads it: user info runs to the first '@' unless a '/' comes first; the
        // host part then runs to the first '/' or '?'.
        let credentialsEnd = rest.firstIndex { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "/") }
        if let at = credentialsEnd, rest[at] == UInt8(ascii: "@") {
            let userinfo = Array(rest[..<at])
            rest = Array(rest[(at + 1)...])
            if let colon = userinfo.firstIndex(of: UInt8(ascii: ":")) {
                if let p = escapeProblem(Array(userinfo[..<colon])) { return "the user name in the URL \(p)" }
                if let p = escapeProblem(Array(userinfo[(colon + 1)...])) { return "the password in the URL \(p)" }
            } else if let p = escapeProblem(userinfo) {
                return "the user name in the URL \(p)"
            }
        }
        let endOfAuthority = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.count
        let authority = Array(rest[..<endOfAuthority])
        if rest[..<(rest.firstIndex(of: UInt8(ascii: "?")) ?? rest.count)].contains(UInt8(ascii: "@")) {
            return "the URL has more than one '@', or an '@' after a '/': write '@' as %40 and '/' as %2F in a user name or password"
        }
        if let p = escapeProblem(authority) { return "the host part of the URL \(p)" }
        if authority.contains(UInt8(ascii: "[")) != authority.contains(UInt8(ascii: "]")) {
            return "the host part of the URL has an unclosed '[' (IPv6 address)"
        }
        if authority.contains(where: { $0 == 32 || $0 == 9 }) { return "the host part of the URL contains a space" }
        var tail = Array(rest[endOfAuthority...])
        var query: [UInt8] = []
        if let q = tail.firstIndex(of: UInt8(ascii: "?")) {
            query = Array(tail[(q + 1)...])
            tail = Array(tail[..<q])
        }
        if let p = escapeProblem(tail) { return "the database name in the URL \(p)" }
        guard !query.isEmpty else { return nil }
        for (n, pair) in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false).enumerated() {
            guard let eq = pair.firstIndex(of: UInt8(ascii: "=")) else {
                return "query parameter \(n + 1) of the URL has no '=' (write key=value)"
            }
            let key = String(decoding: pair[pair.startIndex..<eq], as: UTF8.self)
            guard keywords.contains(key) || key == "ssl" else {
                return "query parameter \(n + 1) of the URL is not a libpq connection option" + knownKeyword(key)
            }
            if let p = escapeProblem(Array(pair[(eq + 1)...])) { return "the value of '\(key)' in the URL \(p)" }
        }
        return nil
    }

    /// A `%` not followed by two hex digits, or an encoded NUL: what libpq rejects.
    static func escapeProblem(_ part: [UInt8]) -> String? {
        var i = 0
        while i < part.count {
            if part[i] == UInt8(ascii: "%") {
                guard i + 2 < part.count, isHex(part[i + 1]), isHex(part[i + 2]) else {
                    return "has a '%' that is not followed by two hex digits (write a literal % as %25)"
                }
                if part[i + 1] == UInt8(ascii: "0"), part[i + 2] == UInt8(ascii: "0") { return "has an encoded NUL (%00)" }
                i += 3
            } else {
                i += 1
            }
        }
        return nil
    }

    static func isHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102) }

    /// ` (did you mean 'x')`, only for a key made of keyword characters (never arbitrary text).
    static func knownKeyword(_ key: String) -> String {
        guard key.count <= 40, key.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || $0 == UInt8(ascii: "_") }) else { return "" }
        return " ('\(key)')"
    }

    // MARK: conninfo

    /// `key = value` pairs; values are bare words (backslash escapes) or single-quoted.
    static func conninfoProblem(_ s: [UInt8]) -> String? {
        var i = 0
        var n = 0
        func space(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }
        while true {
            while i < s.count, space(s[i]) { i += 1 }
            if i == s.count { return nil }
            n += 1
            let keyStart = i
            while i < s.count, s[i] != UInt8(ascii: "="), !space(s[i]) { i += 1 }
            let key = String(decoding: s[keyStart..<i], as: UTF8.self)
            while i < s.count, space(s[i]) { i += 1 }
            guard i < s.count, s[i] == UInt8(ascii: "=") else {
                return "item \(n) of the connection string has no '=' (write key=value; quote values with spaces in '…')"
            }
            guard keywords.contains(key) else {
                return "item \(n) of the connection string is not a libpq connection option" + knownKeyword(key)
            }
            i += 1
            while i < s.count, space(s[i]) { i += 1 }
            if i < s.count, s[i] == UInt8(ascii: "'") {
                i += 1
                var closed = false
                while i < s.count {
                    if s[i] == UInt8(ascii: "\\") {
                        i += 2
                        continue
                    }
                    if s[i] == UInt8(ascii: "'") {
                        closed = true
                        i += 1
                        break
                    }
                    i += 1
                }
                if !closed { return "the value of '\(key)' in the connection string has an unterminated quote" }
            } else {
                while i < s.count, !space(s[i]) {
                    i += s[i] == UInt8(ascii: "\\") ? 2 : 1
                }
                i = min(i, s.count)
            }
        }
    }
}
