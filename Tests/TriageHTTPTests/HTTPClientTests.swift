import Foundation
import Logging
import Testing
import TriageTesting
import TriageCore
@testable import TriageHTTP

/// HTTPClient against a real loopback server (`Tests/Support/http_echo_server.py`).
@Suite struct HTTPClientTests {
    /// The echo server, started per test and stopped when the test ends (shared with the Telegram tests).
    typealias EchoServer = TriageTesting.EchoServer

    struct Echo: Decodable {
        var method: String
        var path: String
        var body: String
        var port: Int
        var headers: [String: String]
    }

    struct Stats: Decodable {
        var max_in_flight: Int
        var connections: Int
    }

    static func client() -> HTTPClient {
        HTTPClient(logger: Logger(label: "test"), userAgent: "TriageTest/1")
    }

    func json<T: Decodable>(_ r: HTTPResponse, _ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: r.body)
    }

    /// The context switches of thread `tid` of this process so far (voluntary and not).
    static func contextSwitches(thread tid: Int) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/task/\(tid)/status", encoding: .utf8) else { return nil }
        var total = 0
        for line in status.split(separator: "\n") where line.contains("ctxt_switches:") {
            guard let n = line.split(separator: "\t").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else { return nil }
            total += n
        }
        return total
    }

    /// Issue 11: an idle client's transfer thread sleeps until there is work (no once-a-second
    /// poll): over 3 s with nothing in flight it is not scheduled once.
    @Test func idleTransferThreadStaysAsleep() async throws {
        let server = try EchoServer()
        let http = Self.client()
        defer { http.shutdown(); server.stop() }
        let r = try await http.send(HTTPRequest(url: server.base + "/warm-up"))
        #expect(r.status == 200)
        try await Task.sleep(for: .milliseconds(300))   // back in its sleep after the response
        let tid = try #require(http.transferThreadID)
        let before = try #require(Self.contextSwitches(thread: tid))
        try await Task.sleep(for: .seconds(3))
        let after = try #require(Self.contextSwitches(thread: tid))
        #expect(after - before == 0, "the idle transfer thread woke \(after - before) times in 3 s")
        // And it still wakes for work.
        let again = try await http.send(HTTPRequest(url: server.base + "/after-idle"))
        #expect(again.status == 200)
        #expect(try #require(Self.contextSwitches(thread: tid)) > after)
    }

    @Test func getAndPostRoundTrip() async throws {
        let server = try EchoServer()
        let http = Self.client()
        defer { http.shutdown(); server.stop() }
        let get = try await http.send(HTTPRequest(url: server.base + "/hello?x=1", headers: [("X-Token", "abc")]))
        #expect(get.status == 200)
        #expect(get.headers["x-echo"] == "yes")
        let g = try json(get, Echo.self)
        #expect(g.method == "GET" && g.path == "/hello")
        #expect(g.headers["x-token"] == "abc")
        #expect(g.headers["user-agent"] == "TriageTest/1")
        let body = Data(#"{"a":"é<>&"}"#.utf8)
        let post = try await http.send(.json("POST", server.base + "/post", body: body))
        let p = try json(post, Echo.self)
        #expect(p.method == "POST" && p.body == #"{"a":"é<>&"}"#)
        #expect(p.headers["content-type"] == "application/json")
        #expect(p.headers["expect"] == nil)
        let put = try await http.send(HTTPRequest(method: "PUT", url: server.base + "/put", body: Data("x".utf8)))
        #expect(try json(put, Echo.self).method == "PUT")
        let empty = try await http.send(HTTPRequest(method: "POST", url: server.base + "/empty"))
        #expect(try json(empty, Echo.self).body == "")
    }

    @Test func anyStatusIsAResponse() async throws {
        let server = try EchoServer()
        let http = Self.client()
        defer { http.shutdown(); server.stop() }
        for code in [400, 401, 409, 429, 502] {
            let r = try await http.send(HTTPRequest(url: server.base + "/status?code=\(code)"))
            #expect(r.status == code)
        }
    }

    @Test func keepAliveReusesOneConnection() async throws {
        let server = try EchoServer()
        let http = Self.client()
        defer { http.shutdown(); server.stop() }
        var ports = Set<Int>()
        for i in 0..<10 {
            let r = try await http.send(HTTPRequest(method: i % 2 == 0 ? "GET" : "POST", url: server.base + "/n\(i)", body: i % 2 == 0 ? nil : Data("b".utf8)))
            ports.insert(try json(r, Echo.self).port)
        }
        #expect(ports.count == 1)
    }

    @Test func concurrentTransfersRunTogether() async throws {
        let server = try EchoServer()
        let http = Self.client()
        defer { http.shutdown(); server.stop() }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            let base = server.base
            for _ in 0..<8 {
                group.addTask { try await http.send(HTTPRequest(url: base + "/delay?s=1")).status }
            }
            var all: [Int] = []
            for try await s in group { all.append(s) }
            return all
        }
        #expect(statuses == Array(repeating: 200, count: 8))
        let stats = try json(try await http.send(HTTPRequest(url: server.base + "/stats")), Stats.self)
        #expect(stats.max_in_flight >= 6)   // measured by the server (one at a time would be 1)
    }

    @Test func totalTimeoutIsAnHTTPErrorTimeout() async throws {
        let server = try EchoServer()
        let http = Self.client()
        defer { http.shutdown(); server.stop() }
        await #expect {
            _ = try await http.send(HTTPRequest(url: server.base + "/delay?s=3", timeout: 0.3))
        } throws: { error in
            (error as? HTTPError)?.code == .timeout
        }
        // the client keeps working
        #expect(try await http.send(HTTPRequest(url: server.base + "/after")).status == 200)
    }

    @Test func connectionRefusedIsANetworkError() async throws {
        let http = Self.client()
        defer { http.shutdown() }
        await #expect {
            _ = try await http.send(HTTPRequest(url: "http://127.0.0.1:9/bot123:secret/getMe", timeout: 2, connectTimeout: 1))
        } throws: { error in
            guard let e = error as? HTTPError else { return false }
            return e.code == .network && !e.description.contains("secret")
        }
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        let server = try EchoServer()
        let http = Self.client()
        defer { http.shutdown(); server.stop() }
        let base = server.base
        let task = Task { try await http.send(HTTPRequest(url: base + "/delay?s=20", timeout: 60)) }
        try await Task.sleep(nanoseconds: 200_000_000)
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(try await http.send(HTTPRequest(url: server.base + "/after")).status == 200)
    }

    @Test func aTaskCancelledBeforeSendingNeverStarts() async throws {
        let server = try EchoServer()
        let http = Self.client()
        defer { http.shutdown(); server.stop() }
        let base = server.base
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await http.send(HTTPRequest(url: base + "/delay?s=20", timeout: 60))
        }
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func afterShutdownSendsFail() async throws {
        let server = try EchoServer()
        defer { server.stop() }
        let http = Self.client()
        #expect(try await http.send(HTTPRequest(url: server.base + "/before")).status == 200)
        let base = server.base
        let inflight = Task { try await http.send(HTTPRequest(url: base + "/delay?s=20", timeout: 60)) }
        try await Task.sleep(nanoseconds: 200_000_000)
        http.shutdown()
        await #expect(throws: (any Error).self) { _ = try await inflight.value }
        await #expect {
            _ = try await http.send(HTTPRequest(url: server.base + "/late"))
        } throws: { ($0 as? HTTPError)?.code == .cancelled }
    }
}
