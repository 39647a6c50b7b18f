import CLibPQ
import Foundation
import TriageCore

/// One libpq connection. Not thread-safe: used only from its session's thread.
package final class PostgresConnection {
    package private(set) var handle: OpaquePointer?
    /// libpq's cancel object, made on the session's thread when connecting; `PQcancel` with it
    /// is thread-safe.
    private var cancelHandle: OpaquePointer?
    package let target: PostgresTarget

    /// Connects (blocking, bounded by `connect_timeout`).
    package init(target: PostgresTarget) throws {
        self.target = target
        // libpq's parse errors quote the string, password included: check it first.
        if let problem = ConnectionString.problem(in: target.connectionString) {
            throw PostgresError(.connection, target: target.name, message: "its connection string is malformed: \(problem) (the string is not shown)")
        }
        // expand_dbname lets `dbname` hold a URL or a conninfo string; later keys override it.
        // TCP keepalives (idle 10 s, then every 5 s, 3 misses) and tcp_user_timeout notice a dead
        // host or network; Triage's own deadline (PostgresSession) covers a server that is alive
        // at the TCP level but does not answer.
        let keys = ["dbname", "application_name", "connect_timeout", "options", "keepalives", "keepalives_idle",
                    "keepalives_interval", "keepalives_count", "tcp_user_timeout"]
        let options = "-c statement_timeout=\(target.statementTimeoutMs) -c lock_timeout=\(target.lockTimeoutMs) -c idle_in_transaction_session_timeout=60000"
        let values = [target.connectionString, target.applicationName, String(max(2, target.connectTimeout)), options, "1", "10",
                      "5", "3", String(max(2, target.connectTimeout) * 1000 + target.statementTimeoutMs)]
        let conn = Self.withCStrings(keys) { k in
            Self.withCStrings(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let conn else {
            throw PostgresError(.connection, target: target.name, message: "out of memory")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn))
            PQfinish(conn)
            throw PostgresError(.connection, target: target.name, message: Self.firstLine(message))
        }
        handle = conn
        cancelHandle = PQgetCancel(conn)
    }

    deinit {
        close()
    }

    /// Closes the connection (on the thread that owns it).
    package func close() {
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        if let handle { PQfinish(handle) }
        cancelHandle = nil
        handle = nil
    }

    package var isHealthy: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Whether a transaction is open on this connection (aborted or not).
    package var inTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// The server process id of this connection (Triage never terminates it).
    package var backendPID: Int32 { handle.map(PQbackendPID) ?? 0 }

    /// Quotes an identifier with libpq's escaping.
    package func quoteIdentifier(_ name: String) throws -> String {
        try escape(name, what: "identifier", with: PQescapeIdentifier)
    }

    /// Quotes a string literal with libpq's escaping (it knows the server's settings).
    package func quoteLiteral(_ value: String) throws -> String {
        try escape(value, what: "literal", with: PQescapeLiteral)
    }

    private func escape(_ text: String, what: String,
                        with function: (OpaquePointer?, UnsafePointer<CChar>?, Int) -> UnsafeMutablePointer<CChar>?) throws -> String {
        guard let handle else { throw PostgresError(.connection, target: target.name, message: "not connected") }
        guard let escaped = function(handle, text, text.utf8.count) else {
            throw PostgresError(.query, target: target.name, message: "cannot quote \(what)")
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// Runs one statement with text parameters (`PQexecParams`, never string-built SQL).
    package func execute(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        guard let handle else { throw PostgresError(.connection, target: target.name, message: "not connected") }
        let result: OpaquePointer? = Self.withOptionalCStrings(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        guard let result else {
            throw PostgresError(.connection, target: target.name, message: Self.firstLine(String(cString: PQerrorMessage(handle))))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Self.read(result)
        default:
            throw error(from: result)
        }
    }

    /// Runs statements in one round trip: libpq's pipeline mode sends them all with one sync
    /// and then reads their results in order. The first statement that fails is thrown; the
    /// server skips the ones after it (an explicit transaction is then left aborted: the caller
    /// rolls it back).
    package func executePipeline(_ statements: [(sql: String, parameters: [String?])]) throws -> [QueryResult] {
        guard let handle else { throw PostgresError(.connection, target: target.name, message: "not connected") }
        func lost() -> PostgresError {
            PostgresError(.connection, target: target.name, message: Self.firstLine(String(cString: PQerrorMessage(handle))))
        }
        guard PQenterPipelineMode(handle) == 1 else { throw lost() }
        var clean = false
        defer {
            // A pipeline left half read cannot be used again: drop the connection.
            if !clean || PQexitPipelineMode(handle) != 1 { close() }
        }
        for s in statements {
            let sent = Self.withOptionalCStrings(s.parameters) { values in
                PQsendQueryParams(handle, s.sql, Int32(clamping: s.parameters.count), nil, values, nil, nil, 0)
            }
            guard sent == 1 else { throw lost() }
        }
        guard PQpipelineSync(handle) == 1 else { throw lost() }
        var results: [QueryResult] = []
        results.reserveCapacity(statements.count)
        var failure: PostgresError?
        for _ in statements.indices {
            guard let result = PQgetResult(handle) else { throw lost() }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                results.append(Self.read(result))
            case PGRES_PIPELINE_ABORTED:
                break
            default:
                if failure == nil { failure = error(from: result) }
            }
            PQclear(result)
            // Each statement's results end with a null one.
            while let extra = PQgetResult(handle) {
                if PQresultStatus(extra) == PGRES_PIPELINE_SYNC { PQclear(extra); throw lost() }
                PQclear(extra)
            }
        }
        guard let sync = PQgetResult(handle) else { throw lost() }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        guard synced else { throw failure ?? lost() }
        clean = true
        if let failure { throw failure }
        guard results.count == statements.count else { throw lost() }
        return results
    }

    package func error(from result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let p = PQresultErrorField(result, code) else { return nil }
            return String(cString: p)
        }
        let state = field(Int32(UInt8(ascii: "C")))
        let primary = field(Int32(UInt8(ascii: "M"))) ?? Self.firstLine(String(cString: PQresultErrorMessage(result)))
        let detail = [field(Int32(UInt8(ascii: "D"))), field(Int32(UInt8(ascii: "H")))].compactMap { $0 }.joined(separator: " ")
        if !isHealthy || state == nil {
            return PostgresError(.connection, target: target.name, message: primary, sqlState: state, detail: detail)
        }
        let code: PostgresError.Code = state == "57014" ? .timeout : .query
        return PostgresError(code, target: target.name, message: primary, sqlState: state, detail: detail.isEmpty ? nil : detail)
    }

    /// Asks the server to cancel the running statement; safe to call from another thread, but
    /// blocking (it opens a connection to the server): never call it on the cooperative pool.
    package func cancel() {
        guard let cancelHandle else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &buffer, 256)
    }

    package static func read(_ result: OpaquePointer) -> QueryResult {
        let nfields = PQnfields(result)
        let ntuples = PQntuples(result)
        var columns: [String] = []
        columns.reserveCapacity(Int(nfields))
        for c in 0..<nfields { columns.append(String(cString: PQfname(result, c))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(ntuples))
        for r in 0..<ntuples {
            var row: [String?] = []
            row.reserveCapacity(Int(nfields))
            for c in 0..<nfields {
                if PQgetisnull(result, r, c) == 1 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, r, c)))
                }
            }
            rows.append(row)
        }
        let tag = String(cString: PQcmdStatus(result))
        return QueryResult(columns: columns, rows: rows, commandTag: tag)
    }

    static func firstLine(_ s: String) -> String {
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        let line = trimmed.split(separator: "\n").first.map(String.init) ?? trimmed
        return line.hasPrefix("FATAL:  ") ? String(line.dropFirst(8)) : line
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        pointers.append(nil)
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    static func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies = strings.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        if pointers.isEmpty { return body(nil) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
