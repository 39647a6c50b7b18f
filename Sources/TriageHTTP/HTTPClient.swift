import CCurl
import Foundation
import Logging
import TriageCore

/// HTTP over libcurl. One thread of its own drives a curl multi handle for every transfer,
/// so blocking never reaches Swift's cooperative pool; connections are kept alive and reused;
/// proxies come from the usual environment variables (`https_proxy`, `no_proxy`, …), which
/// libcurl reads itself. Cancelling the calling task aborts the transfer.
// @unchecked: every mutable field is touched only with `lock` held, by callers and by the curl thread.
public final class HTTPClient: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var multi: UnsafeMutableRawPointer?
    private var queued: [Transfer] = []
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var cancelled: Set<Int> = []
    private var running = true
    private var nextID = 0
    private let logger: Logger
    private let userAgent: String
    /// The transfer thread, started by the first request (a client that is never used, such
    /// as a pager's before anyone is paged, costs no thread).
    private var thread: Thread?

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    /// Prepares the client; its transfer thread starts with the first request.
    public init(logger: Logger, userAgent: String = "Triage") {
        _ = Self.globalInit
        self.logger = logger
        self.userAgent = userAgent
        self.multi = curl_multi_init()
    }

    /// Starts the transfer thread; called with `lock` held.
    private func startThread() {
        let box = LoopBox()
        box.client = self
        let t = Thread { box.client?.loop() }
        t.name = "triage-http"
        thread = t
        t.start()
    }

    deinit {
        shutdown()
    }

    /// Sends `request` and returns the response (any status). Throws ``HTTPError`` when no
    /// response arrived (network, timeout) and `CancellationError` when the task was cancelled.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = Transfer(request: request)
        transfer.id = lock.withLock { nextID += 1; return nextID }
        let id = transfer.id
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                transfer.continuation = continuation
                // Checked under the lock that the cancellation handler takes: a task cancelled
                // before its transfer is queued never starts it.
                let accepted: Bool? = lock.withLock {
                    if Task.isCancelled { return nil }
                    guard running else { return false }
                    if thread == nil { startThread() }
                    queued.append(transfer)
                    return true
                }
                switch accepted {
                case true?:
                    wake()
                case false?:
                    transfer.finish(.failure(HTTPError(.cancelled, message: "the HTTP client is shut down", host: transfer.host)))
                case nil:
                    transfer.finish(.failure(CancellationError()))
                }
            }
        } onCancel: {
            lock.withLock { _ = cancelled.insert(id) }
            wake()
        }
    }

    /// Aborts every transfer and stops the thread.
    public func shutdown() {
        let (stop, idle): (Bool, UnsafeMutableRawPointer?) = lock.withLock {
            guard running else { return (false, nil) }
            running = false
            // Never started: nothing in flight, and no thread to clean the multi handle up.
            if thread == nil, let m = multi {
                multi = nil
                return (true, m)
            }
            return (true, nil)
        }
        if let idle {
            curl_multi_cleanup(idle)
        } else if stop {
            wake()
        }
    }

    /// Wakes the transfer thread. Holds the lock so the multi handle cannot be cleaned up
    /// while it is being woken.
    private func wake() {
        lock.withLock {
            if let m = multi { _ = curl_multi_wakeup(m) }
        }
    }

    // MARK: The transfer thread

    private func loop() {
        guard let multi else { return }
        var stillRunning: Int32 = 0
        while true {
            let (toAdd, toCancel, keepGoing) = lock.withLock { () -> ([Transfer], Set<Int>, Bool) in
                let a = queued
                queued.removeAll()
                let c = cancelled
                cancelled.removeAll()
                return (a, c, running)
            }
            if !keepGoing { break }
            for t in toAdd {
                if toCancel.contains(t.id) {
                    t.finish(.failure(CancellationError()))
                    continue
                }
                do {
                    try t.prepare(userAgent: userAgent)
                    lock.withLock { active[t.easy!] = t }
                    curl_multi_add_handle(multi, t.easy)
                } catch {
                    t.finish(.failure(error))
                }
            }
            if !toCancel.isEmpty {
                let victims = lock.withLock { active.values.filter { toCancel.contains($0.id) } }
                for t in victims { remove(t, from: multi, result: .failure(CancellationError())) }
            }
            curl_multi_perform(multi, &stillRunning)
            var remaining: Int32 = 0
            while let msg = curl_multi_info_read(multi, &remaining) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
                let code = msg.pointee.data.result
                guard let t = lock.withLock({ active[easy] }) else { continue }
                if code == CURLE_OK {
                    var status: Int = 0
                    triage_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
                    remove(t, from: multi, result: .success(HTTPResponse(status: status, headers: t.responseHeaders, body: t.responseBody)))
                } else {
                    let message = String(cString: curl_easy_strerror(code))
                    let kind: HTTPError.Code = code == CURLE_OPERATION_TIMEDOUT ? .timeout : .network
                    remove(t, from: multi, result: .failure(HTTPError(kind, message: message, host: t.host)))
                }
            }
            var fds: Int32 = 0
            curl_multi_poll(multi, nil, 0, 1000, &fds)
        }
        // Shutting down: fail everything still in flight.
        let leftovers = lock.withLock { () -> [Transfer] in
            let l = Array(active.values) + queued
            queued.removeAll()
            return l
        }
        for t in leftovers {
            if t.easy != nil, active[t.easy!] != nil {
                remove(t, from: multi, result: .failure(CancellationError()))
            } else {
                t.finish(.failure(CancellationError()))
            }
        }
        lock.withLock { self.multi = nil }
        curl_multi_cleanup(multi)
    }

    private func remove(_ t: Transfer, from multi: UnsafeMutableRawPointer, result: Result<HTTPResponse, Error>) {
        if let easy = t.easy {
            curl_multi_remove_handle(multi, easy)
            lock.withLock { _ = active.removeValue(forKey: easy) }
        }
        t.finish(result)
    }
}

/// Breaks the init-time cycle between the client and its thread's closure.
// @unchecked: written once before the thread starts, read only by that thread.
private final class LoopBox: @unchecked Sendable {
    weak var client: HTTPClient?
}
