import Testing
@testable import TriageCore

/// The index a plan's sequential scan could use, read from EXPLAIN's text.
@Suite struct SeqScanSuggestionTests {
    @Test func aFilteredSeqScanNamesItsTableAndColumns() {
        let plan = [
            "Hash Join  (cost=1.09..2.24 rows=1 width=8)",
            "  Hash Cond: (o.customer_id = c.id)",
            "  ->  Seq Scan on orders o  (cost=0.00..1.12 rows=1 width=8)",
            "        Filter: ((status = 'open'::text) AND (created_at > now()))",
            "  ->  Hash  (cost=1.05..1.05 rows=3 width=4)",
            "        ->  Seq Scan on customers c  (cost=0.00..1.05 rows=3 width=4)",
        ]
        #expect(SeqScanSuggestion.suggestions(in: plan) == [.init(table: "orders", columns: ["status", "created_at"])])
        #expect(SeqScanSuggestion.suggestions(in: plan).first?.command == "/pg create-index orders status created_at")
    }

    @Test func functionResultsAndUnfilteredScansSuggestNothing() {
        #expect(SeqScanSuggestion.suggestions(in: ["Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)",
                                                   "  Filter: (lower(email) = 'a@x'::text)"]).isEmpty)
        #expect(SeqScanSuggestion.suggestions(in: ["Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)"]).isEmpty)
        #expect(SeqScanSuggestion.suggestions(in: ["Index Scan using t_pkey on t", "  Index Cond: (id = 1)"]).isEmpty)
    }
}
