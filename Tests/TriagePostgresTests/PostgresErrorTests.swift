import Testing
import TriageTesting
@testable import TriagePostgres

/// Messages from libpq never carry passwords into replies or logs.
@Suite struct PostgresErrorTests {
    @Test(arguments: [
        ("connection to postgresql://app:s3cret@db:5432/x failed", "postgresql://app:***@db:5432/x"),
        ("invalid option password=s3cret host=db", "password=*** host=db"),
        ("bad conninfo: password = 'it''s s3cret' dbname=x", "password = '***' dbname=x"),
        ("PASSWORD=s3cret", "PASSWORD=***"),
        (#"password='it\'s s3cret' user=a"#, "password='***' user=a"),
    ])
    func passwordsAreRedacted(_ input: String, _ expected: String) {
        let redacted = PostgresError.redact(input)
        #expect(!redacted.contains("s3cret"), "\(redacted)")
        #expect(redacted.contains(expected), "\(redacted)")
    }
}
