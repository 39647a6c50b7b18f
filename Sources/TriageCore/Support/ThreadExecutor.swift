import Foundation

/// Runs blocking work (libpq, libcurl) on one thread that Triage owns, never on Swift's
/// cooperative pool, and hands the result back to async code.
public final class ThreadExecutor: Sendable {
    // @unchecked: every field is read and written only with `condition` held (a condition
    // variable, which Mutex does not offer, is what lets the thread sleep until a job comes).
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var jobs: [@Sendable () -> Void] = []
        var stopped = false
        /// The thread is started by the first job, so an executor that is never used (a
        /// database target no command touched) costs no thread, stack or malloc arena.
        var started = false

        func loop() {
            while true {
                condition.lock()
                while jobs.isEmpty && !stopped { condition.wait() }
                if jobs.isEmpty && stopped {
                    condition.unlock()
                    return
                }
                let job = jobs.removeFirst()
                condition.unlock()
                job()
            }
        }
    }

    private let queue = Queue()
    private let name: String

    /// Prepares the executor; its thread starts with the first job.
    /// - Parameter name: the thread's name, shown in debuggers and `top -H`.
    public init(name: String) {
        self.name = name
    }

    /// Starts the thread; called with `queue.condition` held.
    private func startThread() {
        queue.started = true
        let thread = Thread { [queue] in queue.loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        shutdown()
    }

    /// Runs `body` on the executor's thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let accepted = submit {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            if !accepted {
                continuation.resume(throwing: TriageError(.conflict, "Triage is shutting down."))
            }
        }
    }

    /// Runs `body` on a new thread of its own (for rare blocking work such as writing files,
    /// or a call that must not wait behind a busy executor) and returns its result.
    /// - Parameters:
    ///   - name: the thread's name, shown in debuggers and `top -H`.
    ///   - body: the blocking work.
    public static func detached<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Starts `body` on a new thread of its own and returns at once (fire and forget).
    public static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues `job`; false when the executor has been shut down.
    @discardableResult
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        queue.condition.lock()
        defer { queue.condition.unlock() }
        guard !queue.stopped else { return false }
        if !queue.started { startThread() }
        queue.jobs.append(job)
        queue.condition.signal()
        return true
    }

    /// Whether the thread was ever started (a job was submitted).
    public var isStarted: Bool {
        queue.condition.lock()
        defer { queue.condition.unlock() }
        return queue.started
    }

    /// Lets queued jobs finish, then ends the thread.
    public func shutdown() {
        queue.condition.lock()
        queue.stopped = true
        queue.condition.broadcast()
        queue.condition.unlock()
    }
}
