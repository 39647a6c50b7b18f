import Testing
@testable import TriageCore

@Suite struct RunbookLogicTests {
    @Test func explainUsesAGenericPlanOnlyWhenThereAreParameters() {
        let (plain, n0) = ExplainPlan.statements(for: "SELECT * FROM t")
        #expect(n0 == 0)
        #expect(plain.map(\.sql) == ["EXPLAIN (COSTS true) SELECT * FROM t"])
        let (generic, n2) = ExplainPlan.statements(for: "SELECT * FROM t WHERE a = $1 AND b > $2 LIMIT $2")
        #expect(n2 == 2)
        #expect(generic.map(\.sql) == [
            "SET LOCAL plan_cache_mode = force_generic_plan",
            "PREPARE triage_explain AS SELECT * FROM t WHERE a = $1 AND b > $2 LIMIT $2",
            "EXPLAIN (COSTS true) EXECUTE triage_explain(NULL, NULL)",
            "DEALLOCATE triage_explain",
        ])
        #expect(ExplainPlan.planIndex(parameters: 2) == 2)
        #expect(!generic.contains { $0.sql.uppercased().contains("ANALYZE") })
    }

    @Test func onlyStatementsEXPLAINAcceptsAreExplained() {
        #expect(ExplainPlan.isExplainable("  /* app */ -- note\n (SELECT 1)"))
        #expect(ExplainPlan.isExplainable("WITH x AS (SELECT 1) SELECT * FROM x"))
        #expect(ExplainPlan.isExplainable("update t set a = $1"))
        #expect(!ExplainPlan.isExplainable("VACUUM t"))
        #expect(!ExplainPlan.isExplainable("CREATE TABLE t (a int)"))
        #expect(!ExplainPlan.isExplainable("SET search_path = x"))
        #expect(ExplainPlan.leadingKeyword("-- c\nDELETE FROM t") == "delete")
    }

    @Test func healthThresholdsFlagValues() {
        let connections = HealthCheck.standard.first { $0.key == "connections" }!
        #expect(connections.evaluate("50") == .none)
        #expect(connections.evaluate("80") == .warning)
        #expect(connections.evaluate("95") == .critical)
        #expect(connections.evaluate(nil) == .none)
        let cache = HealthCheck.standard.first { $0.key == "cache_hit" }!
        #expect(cache.evaluate("99.5") == .none)
        #expect(cache.evaluate("93") == .warning)
        #expect(cache.evaluate("80") == .critical)
        #expect(cache.format(nil) == "n/a")
        #expect(Set(HealthCheck.standard.map(\.key)).count == HealthCheck.standard.count)
        for check in HealthCheck.standard { #expect(check.next.hasPrefix("/pg "), "\(check.key)") }
    }

    @Test func orphanQueryQuotesEveryNameThroughPlaceholders() {
        let q = OrphanQuery(childSchema: "public", childTable: "order items", childColumns: ["order_id", "tenant"],
                            parentSchema: "sales", parentTable: "orders", parentColumns: ["id", "tenant"])
        let s = q.statement(cap: 100)
        #expect(s.parameters == ["100"])
        #expect(s.identifiers == ["cs": "public", "ct": "order items", "ps": "sales", "pt": "orders",
                                  "c0": "order_id", "p0": "id", "c1": "tenant", "p1": "tenant"])
        #expect(s.sql.contains("c.{{ident:c0}} IS NOT NULL AND c.{{ident:c1}} IS NOT NULL"))
        #expect(s.sql.contains("p.{{ident:p0}} = c.{{ident:c0}} AND p.{{ident:p1}} = c.{{ident:c1}}"))
        #expect(!s.sql.contains("order items"))
        let d = DuplicateKeyQuery(schema: "public", table: "products", columns: ["sku"]).statement()
        #expect(d.sql.contains("GROUP BY {{ident:k0}} HAVING count(*) > 1"))
        #expect(d.identifiers["k0"] == "sku")
    }

    @Test func highestPlaceholderCountsParameters() {
        #expect(RunbookLoader.highestPlaceholder(in: "SELECT $1, $12, $3") == 12)
        #expect(RunbookLoader.highestPlaceholder(in: "SELECT $$x$$") == 0)
    }
}

@Suite struct StatementRoleTests {
    @Test func refusesWhenTheLoginCouldDoMoreThanTheStatementsRole() {
        let su = StatementRole(role: "app", login: "postgres", canSetRole: true, extra: ["superuser", "pg_signal_backend"])
        #expect(su.refusal?.contains("logs in as postgres, which has superuser, pg_signal_backend and app has not") == true)
        #expect(StatementRole(role: "app", login: "mon", canSetRole: true, extra: []).refusal == nil)
        #expect(StatementRole(role: "app", login: "mon", canSetRole: true, extra: []).setRole?.parameters == ["app"])
        #expect(StatementRole(role: "mon", login: "mon", canSetRole: true, extra: []).setRole == nil)
        #expect(StatementRole(role: "app", login: "mon", canSetRole: false, extra: []).refusal?.contains("GRANT app TO mon;") == true)
        #expect(StatementRole(role: nil, login: "mon", canSetRole: false, extra: []).refusal?.contains("no longer exists") == true)
        let superApp = StatementRole(role: "postgres", login: "mon", canSetRole: false, extra: [], roleIsSuperuser: true)
        #expect(superApp.refusal?.contains("will not become a superuser") == true)
        #expect(superApp.refusal?.contains("GRANT postgres") == false)
        // Both superusers: planning as the statement's role is no more than it has.
        #expect(StatementRole(role: "admin", login: "postgres", canSetRole: true, extra: [], roleIsSuperuser: true).refusal == nil)
    }

    @Test func explainAnalyzeOnlyRunsStatementsThatRead() {
        #expect(ExplainPlan.writeRefusal("SELECT id FROM t WHERE id = $1") == nil)
        #expect(ExplainPlan.writeRefusal("WITH x AS (SELECT 1) SELECT * FROM x, last_update") == nil)
        #expect(ExplainPlan.writeRefusal("VALUES (1)") == nil)
        for writing in ["UPDATE t SET a = $1", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "SELECT * INTO t2 FROM t",
                        "SELECT * FROM t FOR UPDATE", "SELECT * FROM t FOR NO KEY UPDATE", "SELECT * FROM t FOR SHARE",
                        "INSERT INTO t VALUES ($1)", "MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", "/* x */ delete from t"] {
            #expect(ExplainPlan.writeRefusal(writing) != nil, "\(writing)")
        }
    }
}

@Suite struct RolePrivilegesTests {
    @Test func maintenanceRunsAsTheOwnerFromThePatchedReleases() {
        #expect(RolePrivileges.runsIndexExpressionsAsOwner(150000))
        #expect(RolePrivileges.runsIndexExpressionsAsOwner(140003))
        #expect(!RolePrivileges.runsIndexExpressionsAsOwner(140002))
        #expect(!RolePrivileges.runsIndexExpressionsAsOwner(130006))
        #expect(!RolePrivileges.runsIndexExpressionsAsOwner(90624))
    }

    @Test func theSummaryNamesTablesItCannotMaintain() {
        let p = RolePrivileges(role: "act", login: "act", superuser: false, monitor: false, readsAllStats: false, canTerminate: true,
                               maintainable: 1, tables: 8, powerful: ["pg_signal_backend"], notMaintainable: ["public.a", "public.b"],
                               serverVersion: 140002)
        #expect(p.summary.contains("can VACUUM/ANALYZE/REINDEX 1 of 8 tables (not: public.a, public.b, …)"), "\(p.summary)")
        #expect(p.actionWarnings.contains { $0.contains("CVE-2022-1552") })
        #expect(p.actionWarnings.contains { $0.contains("only 1 of 8 tables") })
        #expect(p.diagnosticsWarnings.contains { $0.contains("lacks pg_monitor") })
        #expect(p.diagnosticsWarnings.contains { $0.contains("has pg_signal_backend, more than diagnostics need") })
    }
}
