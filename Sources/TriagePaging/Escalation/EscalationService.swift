import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TriageCore

/// The escalation timer: runs ``EscalationEngine/runDue()`` when something is due, and
/// otherwise sleeps: until the next due time, the next acknowledgement poll, or a commit that
/// starts or changes a page (the store wakes it), at most `idleInterval` seconds. On graceful
/// shutdown (or ``stop()``) it makes one last pass so queued provider calls go out.
public final class EscalationService: Service, Sendable {
    let engine: EscalationEngine
    let logger: Logger
    let idleInterval: Double
    struct State {
        var stopped = false
        var afterPass: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())
    private let wake: WakeSignal

    public init(engine: EscalationEngine, logger: Logger, idleInterval: Double = 300) {
        self.engine = engine
        self.logger = logger
        self.idleInterval = idleInterval
        wake = WakeSignal(clock: engine.clock)
    }

    /// Called after every pass, e.g. to wake an outbox that sends the chat mentions a pass queued.
    public func onPass(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.afterPass = body }
    }

    /// Asks the loop to finish after its current pass (for hosts without a ServiceGroup).
    public func stop() {
        state.withLock { $0.stopped = true }
        wake.ring()
    }

    var isStopping: Bool {
        state.withLock { $0.stopped } || Task.isShuttingDownGracefully || Task.isCancelled
    }

    public func run() async throws {
        try await engine.recover()
        let wake = self.wake
        engine.store.onPagingChange { wake.ring() }
        logger.info("escalation service started")
        while !isStopping {
            do {
                try await engine.runDue()
            } catch {
                logger.error("escalation pass failed", metadata: ["error": "\(error)"])
            }
            state.withLock { $0.afterPass }?()
            var seconds = idleInterval
            if let next = try? await engine.nextWake() {
                seconds = max(0.05, min(seconds, next.timeIntervalSince(engine.clock.now)))
            }
            guard !isStopping else { break }
            await withGracefulShutdownHandler {
                await wake.wait(atMost: seconds)
            } onGracefulShutdown: {
                wake.ring()
            }
        }
        if !Task.isCancelled {
            _ = try? await engine.runDue()
        }
        logger.info("escalation service stopped")
    }
}
