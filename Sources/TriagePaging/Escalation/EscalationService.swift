import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The escalation timer: runs ``EscalationEngine/runDue()`` whenever something is due (at
/// least every `pollInterval`, which also picks up pages started by commands). On graceful
/// shutdown (or ``stop()``) it makes one last pass so queued provider calls go out.
public final class EscalationService: Service, Sendable {
    let engine: EscalationEngine
    let logger: Logger
    let pollInterval: Double
    struct State {
        var stopped = false
        var afterPass: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    public init(engine: EscalationEngine, logger: Logger, pollInterval: Double = 1) {
        self.engine = engine
        self.logger = logger
        self.pollInterval = pollInterval
    }

    /// Called after every pass, e.g. to wake an outbox that sends the chat mentions a pass queued.
    public func onPass(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.afterPass = body }
    }

    /// Asks the loop to finish after its current pass (for hosts without a ServiceGroup).
    public func stop() {
        state.withLock { $0.stopped = true }
    }

    var isStopping: Bool {
        state.withLock { $0.stopped } || Task.isShuttingDownGracefully || Task.isCancelled
    }

    public func run() async throws {
        try await engine.recover()
        logger.info("escalation service started")
        while !isStopping {
            do {
                try await engine.runDue()
            } catch {
                logger.error("escalation pass failed", metadata: ["error": "\(error)"])
            }
            state.withLock { $0.afterPass }?()
            var wait = pollInterval
            if let next = try? await engine.nextDue() {
                wait = max(0.05, min(wait, next.timeIntervalSince(engine.now())))
            }
            let deadline = Date().addingTimeInterval(wait)
            while !isStopping && Date() < deadline {
                try? await Task.sleep(nanoseconds: UInt64(min(0.1, max(0.01, deadline.timeIntervalSinceNow)) * 1e9))
            }
        }
        if !Task.isCancelled {
            _ = try? await engine.runDue()
        }
        logger.info("escalation service stopped")
    }
}
