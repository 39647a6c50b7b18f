import Foundation
import Testing
@testable import TriageCore

/// The leak shapes seen in real incidents and reports, each with the secret that must not
/// survive ``Redaction/redact(_:)``.
enum LeakCorpus {
    static let shapes: [(text: String, secret: String)] = [
        ("ALTER ROLE app PASSWORD 'Leak_me_PW_4242'", "Leak_me_PW_4242"),
        ("CREATE ROLE x LOGIN ENCRYPTED PASSWORD 'Leak_enc_1' VALID UNTIL 'infinity'", "Leak_enc_1"),
        ("alter user app with unencrypted password E'Le\\'ak_esc'", "ak_esc"),
        ("CREATE ROLE y PASSWORD $$Leak_dollar$$", "Leak_dollar"),
        ("CREATE ROLE z PASSWORD $pw$Leak_tag$pw$", "Leak_tag"),
        ("ALTER ROLE a PASSWORD U&'Leak_uni\\0041'", "Leak_uni"),
        ("ALTER ROLE app\n   PASSWORD\n   'Leak_newline'", "Leak_newline"),
        ("ALTER ROLE app PASSWORD 'Leak_trunc", "Leak_trunc"),
        ("ALTER ROLE app PASSWORD 'it''s_Leak_doubled'", "s_Leak_doubled"),
        ("SELECT pgp_sym_encrypt('card 4111', 'Leak_pgp_key')", "Leak_pgp_key"),
        ("SELECT pgp_sym_decrypt(secret_col, 'Leak_pgp_dec') FROM vault", "Leak_pgp_dec"),
        ("select public.PGP_SYM_ENCRYPT_BYTEA(data, 'Leak_pgp_bytea', 'cipher-algo=aes256')", "Leak_pgp_bytea"),
        ("SELECT pgp_pub_decrypt(msg, dearmor(k), 'Leak_pub_pw')", "Leak_pub_pw"),
        ("SELECT crypt('Leak_crypt', gen_salt('bf'))", "Leak_crypt"),
        ("SELECT hmac('payload', 'Leak_hmac', 'sha256')", "Leak_hmac"),
        ("SELECT encrypt('data', 'Leak_encrypt', 'aes')", "Leak_encrypt"),
        ("SELECT decrypt_iv(x, 'Leak_iv_key', '\\x00', 'aes')", "Leak_iv_key"),
        ("SELECT dblink_connect('c', 'host=db user=app password=Leak_dblink dbname=x')", "Leak_dblink"),
        ("SELECT * FROM dblink('dbname=x password=''Leak dbl quoted''', 'select 1') AS t(a int)", "Leak dbl"),
        ("SELECT dblink_exec('postgresql://app:Leak_dblink_url@db/x', 'DELETE FROM t')", "Leak_dblink_url"),
        ("CREATE USER MAPPING FOR app SERVER remote OPTIONS (user 'app', password 'Leak_fdw')", "Leak_fdw"),
        ("ALTER USER MAPPING FOR app SERVER remote OPTIONS (SET password 'Leak_fdw_set')", "Leak_fdw_set"),
        ("postgresql://app:Leak_url@db.internal:5432/orders", "Leak_url"),
        ("postgres://app:Le%zzak_badesc@db/orders", "Le%zzak_badesc"),
        ("postgresql://app:p@ss@Leak_at@db/orders", "ss@Leak_at"),
        ("postgresql://app:Leak/slash@db/orders", "Leak/slash"),
        ("postgresql://:Leak_nouser@db/orders", "Leak_nouser"),
        ("postgresql://app:Leak_multi@h1:5432,h2:5433/orders?target_session_attrs=read-write", "Leak_multi"),
        ("postgresql://db/orders?user=app&password=Leak_query&sslmode=require", "Leak_query"),
        ("jdbc:postgresql://db:5432/orders?user=app&password=Leak_jdbc", "Leak_jdbc"),
        ("host=db user=app password='Leak quoted conninfo' dbname=orders", "Leak quoted"),
        ("host=db password=Leak\\ escaped dbname=orders", "escaped"),
        ("password=Leak_first host=db", "Leak_first"),
        ("host=db sslpassword=Leak_sslkey sslkey=/k", "Leak_sslkey"),
        ("PGPASSWORD=Leak_env psql -h db", "Leak_env"),
        ("host=db oauth_issuer=https://id oauth_client_secret=Leak_oauth", "Leak_oauth"),
        ("host=db scram_client_key=Leak_scram_key", "Leak_scram_key"),
        ("client_secret: Leak_yaml_secret", "Leak_yaml_secret"),
        ("{\"user\": \"app\", \"password\": \"Leak_json\"}", "Leak_json"),
        ("SELECT id FROM users WHERE password = 'Leak_where'", "Leak_where"),
        ("invalid percent-encoded token: \"Le%zzak_libpq\"", "Le%zzak_libpq"),
        ("missing \"=\" after \"Leak_fragment\" in connection info string", "Leak_fragment"),
        ("SCRAM-SHA-256$4096:c2FsdHNhbHQ=$Leak0StoredKey=:Leak0ServerKey=", "Leak0StoredKey"),
        ("ALTER ROLE app PASSWORD 'md5e8a48653851e28c69d0506508fb27fc5'", "e8a48653851e28c69d0506508fb27fc5"),
        ("rolpassword md5e8a48653851e28c69d0506508fb27fc5", "e8a48653851e28c69d0506508fb27fc5"),
    ]

    /// Text that looks like a secret but is not: it must come out unchanged.
    static let lookAlikes: [String] = [
        "password authentication failed for user \"app\"",
        "SELECT id FROM users WHERE password = $1",
        "SELECT id FROM users WHERE password = crypt($1, password)",
        "SET password_encryption = 'scram-sha-256'",
        "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', dbname 'x', password_required 'false')",
        "postgresql://db.internal:5432/orders",
        "postgresql://app@db.internal/orders",
        "SELECT encryption_key_id, decrypted_at FROM keys WHERE id = $1",
        "could not translate host name \"db.internal\" to address: Name or service not known",
        "SELECT pgp_sym_encrypt($1, $2)",
        "UPDATE accounts SET balance = balance - $1 WHERE id = $2",
        "/pg explain 123 --db main",
    ]
}

@Suite struct RedactionTests {
    @Test(arguments: LeakCorpus.shapes.indices)
    func everyLeakShapeIsMasked(_ index: Int) {
        let (text, secret) = LeakCorpus.shapes[index]
        let out = Redaction.redact(text)
        #expect(!out.contains(secret), "\(out)")
        #expect(out.contains(Redaction.mask), "\(out)")
    }

    @Test(arguments: LeakCorpus.lookAlikes)
    func lookAlikesAreLeftAlone(_ text: String) {
        #expect(Redaction.redact(text) == text)
    }

    /// The pre-check rules out text before the scanner sees it: every word a rule starts
    /// from must pass it, in any case, at the start, middle or end of the text.
    @Test func thePreCheckLetsEveryRuleWordThrough() {
        let words = ["password", "PASSWD", "Pwd", "pgp_sym_encrypt", "percent-encoded", "://", "ENCRYPT", "decrypt", "HMAC", "Crypt",
                     "connection info", "SCRAM-SHA", "scram_client_key", "Secret", "md5"]
        for w in words {
            for text in [w, "x " + w, "abc " + w + " def", "pp" + w, "::" + w] {
                #expect(Redaction.mightContainSecret(text), "\(text)")
            }
        }
        for clean in ["event 12: checking <the> pool & replicas | again", "SELECT * FROM orders WHERE id = $1", "p", ":", "pa", "c", ""] {
            #expect(!Redaction.mightContainSecret(clean), "\(clean)")
        }
    }

    @Test func theRestOfTheTextIsKept() {
        #expect(Redaction.redact("ALTER ROLE app PASSWORD 'x1' VALID UNTIL '2030-01-01'")
                == "ALTER ROLE app PASSWORD '***' VALID UNTIL '2030-01-01'")
        #expect(Redaction.redact("postgresql://app:pw@db:5432/x?sslmode=require") == "postgresql://app:***@db:5432/x?sslmode=require")
        #expect(Redaction.redact("host=db password='a b' dbname=x") == "host=db password='***' dbname=x")
        #expect(Redaction.redact("SELECT pgp_sym_encrypt(card, 'k') FROM t WHERE id = 1") == "SELECT pgp_sym_encrypt(card, '***') FROM t WHERE id = 1")
    }

    @Test func replyAndRendererRedactEveryPart() {
        let secret = "Leak_me_PW_4242"
        let q = "ALTER ROLE app PASSWORD '\(secret)' /* a long comment that pushes the literal past the cell width */"
        let reply = Reply(title: "t \(q)", blocks: [
            .text(q), .note(q, .warning), .code(q), .keyValues([KeyValue("query", q)]),
            .table(ReplyTable(title: q, columns: ["query"], rows: [[ReplyCell(q)]])),
        ], summary: q)
        let r = reply.redacted()
        #expect(!"\(r)".contains(secret))
        #expect(!TextRenderer(maxCellWidth: 30).render(reply).contains("Leak_me"))
    }

    @Test func longOutputsStayFast() {
        let row = "12345  active  SELECT count(*) FROM orders WHERE customer_id = $1 AND status = $2  \n"
        let text = String(repeating: row, count: 20_000) + "ALTER ROLE app PASSWORD 'Leak_at_the_end'"
        let start = ContinuousClock.now
        let out = Redaction.redact(text)
        #expect(!out.contains("Leak_at_the_end"))
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    @Test func postmortemRenderersRedact() {
        let secret = "Leak_pm_secret"
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        let incident = Incident(id: 1, platform: "test", room: "r", title: "db down postgresql://a:\(secret)@h/x", severity: .sev2,
                                openedBy: "@a", openedAt: at)
        let event = TimelineEvent(incidentID: 1, at: at, actor: "@a", kind: .command, command: "/pg slow",
                                  text: "ALTER ROLE app PASSWORD '\(secret)'", output: "query: ALTER ROLE app PASSWORD '\(secret)'",
                                  payload: "{\"query\": \"ALTER ROLE app PASSWORD '\(secret)'\"}")
        let pm = PostmortemBuilder.build(incident: incident, events: [event], generatedAt: at.addingTimeInterval(60))
        #expect(!MarkdownPostmortem().render(pm).contains(secret))
        #expect(!JSONPostmortem().render(pm).contains(secret))
        #expect(!SVGTimeline().render(pm).contains(secret))
    }
}


@Suite struct RedactionStructureTests {
    @Test func redactingTwiceKeepsTheRest() {
        let once = Redaction.redact("ALTER ROLE app PASSWORD 'Leak_cut")
        #expect(once == "ALTER ROLE app PASSWORD '***")
        let rendered = "query\n\(once)\nSELECT 'kept' FROM t\n$$***\nnext 'row'\n"
        #expect(Redaction.redact(rendered) == rendered)
        #expect(Redaction.redact("x ''***") == "x ''***")
        #expect(Redaction.redact("dblink('password=''***'' host=h')") == "dblink('password=''***'' host=h')")
    }

    @Test func jsonStaysJSON() throws {
        let payload = #"{"active": [{"query": "ALTER ROLE app PASSWORD 'Leak_json_cut", "pid": 12}], "total": 3}"#
        let out = Redaction.redactJSON(payload)
        #expect(!out.contains("Leak_json_cut"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(object["total"] as? Int == 3)
        let clean = #"{"b": 1, "a": "SELECT 1"}"#
        #expect(Redaction.redactJSON(clean) == clean)
        #expect(Redaction.redactJSON("not json password=Leak_x") == "not json password=***")
    }

    @Test func aJSONKeyNamingASecretHidesItsValue() throws {
        // The value alone looks like nothing: only the key says it is a secret.
        let payload = #"{"password": "x7", "sslpassword": 4242, "client_secret": "Leak_k", "user": "app", "nested": {"PGPASSWORD": "p"}}"#
        let out = Redaction.redactJSON(payload)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(object["password"] as? String == Redaction.mask)
        #expect(object["sslpassword"] as? String == Redaction.mask)
        #expect(object["client_secret"] as? String == Redaction.mask)
        #expect(object["user"] as? String == "app")
        #expect((object["nested"] as? [String: Any])?["PGPASSWORD"] as? String == Redaction.mask)
        #expect(!out.contains("x7") && !out.contains("4242") && !out.contains("Leak_k"))
    }
}
