import Foundation
import Logging
import TriageCore
import TriageHTTP

/// The Python provider receivers (Tests/e2e/paging_receivers.py) as a subprocess on 127.0.0.1.
/// (Unchecked: its fields are set in `init` and only read after; Foundation's `Process` is not
/// marked `Sendable`.)
final class PagingReceivers: @unchecked Sendable {
    let process = Process()
    let port: Int
    let http: HTTPClient
    static let pagerdutyKey = "0123456789abcdef0123456789abcdef"
    static let opsgenieKey = "eb243592-faa2-4ba2-a551-1afdf565c889"
    static let pagerdutyToken = "y_NbAkKc66ryYTWUXYEu"

    var baseURL: String { "http://127.0.0.1:\(port)" }

    static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("e2e/paging_receivers.py").path
    }

    init() async throws {
        let python = ProcessInfo.processInfo.environment["TRIAGE_TEST_PYTHON"] ?? "/usr/bin/python3"
        process.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: python) ? python : "/usr/bin/env")
        process.arguments = (process.executableURL!.path.hasSuffix("env") ? ["python3"] : [])
            + [Self.scriptPath, "--pagerduty-key", Self.pagerdutyKey, "--opsgenie-key", Self.opsgenieKey,
               "--pagerduty-token", Self.pagerdutyToken]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let reader = ThreadExecutor(name: "receiver-stdout")
        let line: String = try await reader.run {
            var data = Data()
            while !data.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
            }
            return String(decoding: data, as: UTF8.self)
        }
        reader.shutdown()
        guard line.hasPrefix("PORT "), let p = Int(line.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TriageError(.config, "receivers did not start: \(line)")
        }
        port = p
        http = HTTPClient(logger: Logger(label: "test"))
    }

    func stop() {
        // Not waitUntilExit: it spins a run loop on the calling (cooperative) thread.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        http.shutdown()
    }

    /// Every request received, in order.
    func requests(_ service: String? = nil) async throws -> [[String: Any]] {
        let r = try await http.send(HTTPRequest(url: baseURL + "/_control/requests"))
        let all = try JSONSerialization.jsonObject(with: r.body) as! [[String: Any]]
        return all.filter { service == nil || $0["service"] as? String == service }
    }

    /// Accepted requests of a service whose body has `field == value`.
    func accepted(_ service: String, where field: String? = nil, is value: String? = nil) async throws -> [[String: Any]] {
        try await requests(service).filter { r in
            let status = r["status"] as? Int ?? 0
            guard (200..<300).contains(status) else { return false }
            guard let field, let value else { return true }
            return ((r["body"] as? [String: Any])?[field] as? String) == value
        }
    }

    /// PagerDuty and Opsgenie state by key ("triggered", "acknowledged", …).
    func state() async throws -> [String: [String: String]] {
        let all = try await fullState()
        // Read value by value: a bridged `as? [String: String]` of a JSON value traps on Linux
        // when the shape differs.
        func strings(_ value: Any?) -> [String: String] {
            guard let map = value as? [String: Any] else { return [:] }
            var out: [String: String] = [:]
            for (k, v) in map { if let s = v as? String { out[k] = s } }
            return out
        }
        return ["pagerduty": strings(all["pagerduty"]), "opsgenie": strings(all["opsgenie"])]
    }

    /// Everything, with the incidents and alerts as the providers' APIs show them.
    func fullState() async throws -> [String: Any] {
        let r = try await http.send(HTTPRequest(url: baseURL + "/_control/state"))
        return try JSONSerialization.jsonObject(with: r.body) as? [String: Any] ?? [:]
    }

    /// Someone acknowledges the open PagerDuty incident for `key` in PagerDuty's app.
    func acknowledgeInPagerDuty(key: String, userID: String, name: String) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["dedup_key": key, "user_id": userID, "name": name])
        let r = try await http.send(.json("POST", baseURL + "/_control/pagerduty/acknowledge", body: body))
        guard r.status == 200 else { throw TriageError(.http, "no open PagerDuty incident for \(key)") }
    }

    /// Someone acknowledges the open Opsgenie alert `alias` in Opsgenie's app.
    func acknowledgeInOpsgenie(alias: String, user: String) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["alias": alias, "user": user])
        let r = try await http.send(.json("POST", baseURL + "/_control/opsgenie/acknowledge", body: body))
        guard r.status == 200 else { throw TriageError(.http, "no open Opsgenie alert for \(alias)") }
    }

    func fail(_ service: String, status: Int, count: Int = -1, retryAfter: Int? = nil) async throws {
        var body: [String: Any] = ["service": service, "status": status, "count": count]
        if let retryAfter { body["retry_after"] = retryAfter }
        _ = try await http.send(.json("POST", baseURL + "/_control/fail", body: try JSONSerialization.data(withJSONObject: body)))
    }

    func clearFailures() async throws {
        _ = try await http.send(.json("POST", baseURL + "/_control/clear", body: Data("{}".utf8)))
    }
}
