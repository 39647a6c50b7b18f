import CCurl
import Foundation
import Logging
import Synchronization
import TriageCore

/// HTTP over libcurl. One thread of its own drives a curl multi handle for every transfer,
/// so blocking never reaches Swift's cooperative pool; connections are kept alive and reused;
/// proxies come from the usual environment variables (`https_proxy`, `no_proxy`, …), which
/// libcurl reads itself. Cancelling the calling task aborts the transfer.
///
/// When idle the thread sleeps in `curl_multi_poll` until a request or a cancellation wakes
/// it (`curl_multi_wakeup`), or until libcurl's next timeout for the transfers in flight:
/// an idle client costs no wake-ups.
public final class HTTPClient: HTTPTransport, Sendable {
    /// What callers and the transfer thread share; the transfers themselves live on that
    /// thread only.
    private struct State {
        /// Requests handed over, not yet taken by the thread.
        var queued: [Pending] = []
        /// Ids of requests whose task was cancelled.
        var cancelled: Set<Int> = []
        var running = true
        var nextID = 0
        /// Whether the transfer thread was started (by the first request).
        var started = false
        /// Whether the multi handle may still be woken (cleared before it is cleaned up).
        var multiAlive = true
        /// The kernel's id of the transfer thread, once it runs (for tests that count its wake-ups).
        var threadID: Int?
    }

    private let state = Mutex(State())
    private let multi: CurlMulti
    private let logger: Logger
    private let userAgent: String

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    /// Prepares the client; its transfer thread starts with the first request (a client that
    /// is never used, such as a pager's before anyone is paged, costs no thread).
    public init(logger: Logger, userAgent: String = "Triage") {
        _ = Self.globalInit
        self.logger = logger
        self.userAgent = userAgent
        self.multi = CurlMulti(handle: curl_multi_init())
    }

    deinit {
        shutdown()
    }

    /// Sends `request` and returns the response (any status). Throws ``HTTPError`` when no
    /// response arrived (network, timeout) and `CancellationError` when the task was cancelled.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                // Checked under the lock that the cancellation handler takes: a task cancelled
                // before its request is queued never starts it.
                let outcome: Admission = state.withLock { s in
                    if Task.isCancelled { return .cancelled }
                    guard s.running, multi.handle != nil else { return .shutDown }
                    s.queued.append(Pending(id: id, request: request, continuation: continuation))
                    if s.started { return .queued }
                    s.started = true
                    return .queuedFirst
                }
                switch outcome {
                case .queuedFirst:
                    startThread()
                case .queued:
                    wake()
                case .shutDown:
                    continuation.resume(throwing: HTTPError(.cancelled, message: "the HTTP client is shut down",
                                                            host: Transfer.host(of: request.url)))
                case .cancelled:
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            state.withLock { _ = $0.cancelled.insert(id) }
            wake()
        }
    }

    /// What became of a request handed to ``send(_:)``.
    private enum Admission {
        case queued, queuedFirst, shutDown, cancelled
    }

    /// Aborts every transfer and stops the thread.
    public func shutdown() {
        let cleanUpHere: Bool? = state.withLock { s in
            guard s.running else { return nil }
            s.running = false
            // Never started: nothing in flight, and no thread to clean the multi handle up.
            if !s.started {
                s.multiAlive = false
                return true
            }
            return false
        }
        switch cleanUpHere {
        case true?: if let m = multi.handle { curl_multi_cleanup(m) }
        case false?: wake()
        case nil: break
        }
    }

    /// Starts the transfer thread (once, by the first request).
    private func startThread() {
        let t = Thread { [weak self] in self?.loop() }
        t.name = "triage-http"
        t.start()
    }

    /// Wakes the transfer thread. Under the lock, so that the multi handle cannot be cleaned
    /// up while it is being woken.
    private func wake() {
        state.withLock { s in
            if s.multiAlive, let m = multi.handle { _ = curl_multi_wakeup(m) }
        }
    }

    // MARK: The transfer thread

    /// The kernel's id of the transfer thread, once it runs.
    var transferThreadID: Int? { state.withLock { $0.threadID } }

    private func loop() {
        guard let multi = multi.handle else { return }
        // `/proc/thread-self` names `PID/task/TID`.
        let tid = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"))
            .flatMap { $0.split(separator: "/").last }.flatMap { Int($0) }
        state.withLock { $0.threadID = tid }
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        var stillRunning: Int32 = 0
        func remove(_ t: Transfer, result: Result<HTTPResponse, Error>) {
            if let easy = t.easy {
                curl_multi_remove_handle(multi, easy)
                active.removeValue(forKey: easy)
            }
            t.finish(result)
        }
        while true {
            let (toAdd, toCancel, keepGoing) = state.withLock { s -> ([Pending], Set<Int>, Bool) in
                defer {
                    s.queued.removeAll()
                    s.cancelled.removeAll()
                }
                return (s.queued, s.cancelled, s.running)
            }
            if !keepGoing {
                // Shutting down: fail everything still in flight or handed over.
                for t in Array(active.values) { remove(t, result: .failure(CancellationError())) }
                for p in toAdd { p.continuation.resume(throwing: CancellationError()) }
                break
            }
            for p in toAdd {
                if toCancel.contains(p.id) {
                    p.continuation.resume(throwing: CancellationError())
                    continue
                }
                let t = Transfer(request: p.request)
                t.id = p.id
                t.continuation = p.continuation
                do {
                    try t.prepare(userAgent: userAgent)
                    guard let easy = t.easy else { throw HTTPError(.network, message: "no easy handle", host: t.host) }
                    active[easy] = t
                    curl_multi_add_handle(multi, easy)
                } catch {
                    t.finish(.failure(error))
                }
            }
            if !toCancel.isEmpty {
                for t in active.values.filter({ toCancel.contains($0.id) }) { remove(t, result: .failure(CancellationError())) }
            }
            curl_multi_perform(multi, &stillRunning)
            var remaining: Int32 = 0
            while let msg = curl_multi_info_read(multi, &remaining) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle, let t = active[easy] else { continue }
                let code = msg.pointee.data.result
                if code == CURLE_OK {
                    var status: Int = 0
                    triage_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
                    remove(t, result: .success(HTTPResponse(status: status, headers: t.responseHeaders, body: t.responseBody)))
                } else {
                    let message = String(cString: curl_easy_strerror(code))
                    let kind: HTTPError.Code = code == CURLE_OPERATION_TIMEDOUT ? .timeout : .network
                    remove(t, result: .failure(HTTPError(kind, message: message, host: t.host)))
                }
            }
            var fds: Int32 = 0
            curl_multi_poll(multi, nil, 0, Self.pollTimeout(multi, idle: active.isEmpty), &fds)
        }
        state.withLock { $0.multiAlive = false }
        curl_multi_cleanup(multi)
    }

    /// How long the thread may sleep: with nothing in flight, until it is woken; otherwise
    /// until libcurl's next timeout for its transfers (their own time limits included).
    static func pollTimeout(_ multi: UnsafeMutableRawPointer, idle: Bool) -> Int32 {
        guard !idle else { return Int32.max }
        var ms = -1
        curl_multi_timeout(multi, &ms)
        return ms < 0 ? Int32.max : Int32(clamping: ms)
    }
}

/// A request handed from a caller to the transfer thread.
private struct Pending: Sendable {
    let id: Int
    let request: HTTPRequest
    let continuation: CheckedContinuation<HTTPResponse, Error>
}

/// The curl multi handle, shared by the callers (which only wake it) and the transfer thread.
// @unchecked: libcurl allows curl_multi_wakeup from any thread; every other call is on the transfer thread.
private struct CurlMulti: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer?
}
