import Testing
@testable import TriageCore

@Suite struct ConnectionStringTests {
    static let good = [
        "postgresql:///postgres",
        "postgresql://postgres@127.0.0.1:55432/postgres",
        "postgres://app:p%40ss%25word@db.internal:5432/orders?sslmode=require&application_name=x",
        "postgresql://app:secret@h1:5432,h2:5433/orders?target_session_attrs=read-write",
        "postgresql://[::1]:5432/orders",
        "postgresql://db/orders?ssl=true",
        "postgresql://app:pa?ss@db/orders",
        "host=db port=5432 dbname=orders user=app password='a b\\'c'",
        "host=/tmp dbname=x",
        "",
    ]

    @Test(arguments: good)
    func acceptsWhatLibpqAccepts(_ s: String) {
        #expect(ConnectionString.problem(in: s) == nil)
    }

    static let bad: [(String, String)] = [
        ("postgresql://app:Leak%zz9@db/orders", "password"),
        ("postgresql://app:Leak%4@db/orders", "password"),
        ("postgresql://app:Leak%00x@db/orders", "NUL"),
        ("postgresql://Le%kuser:pw@db/orders", "user name"),
        ("postgresql://app:Le@k_at@db/orders", "@"),
        ("postgresql://app:Leak/slash@db/orders", "@"),
        ("postgresql://db/ord%zzers", "database name"),
        ("postgresql://db/orders?password=Leak%zz", "'password'"),
        ("postgresql://db/orders?Leak_key=1", "query parameter 1"),
        ("postgresql://db/orders?sslmode", "no '='"),
        ("postgresql://[::1/orders", "'['"),
        ("mysql://app:Leak@db/orders", "postgresql://"),
        ("host=db password='Leak_unterminated", "unterminated"),
        ("host=db Leak_word dbname=x", "no '='"),
        ("host=db Leak_key=1", "not a libpq connection option"),
    ]

    @Test(arguments: bad.indices)
    func refusesWithoutEchoing(_ index: Int) throws {
        let (s, part) = Self.bad[index]
        let problem = try #require(ConnectionString.problem(in: s))
        #expect(problem.contains(part), "\(problem)")
        #expect(!problem.contains("Leak"), "\(problem)")
        #expect(!problem.contains("db/"), "\(problem)")
    }
}
