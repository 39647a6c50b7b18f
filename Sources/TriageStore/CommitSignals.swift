import Synchronization

/// Tells the outbox of a platform that a committed transaction queued a reply for it: the
/// store wakes the sender, so no caller has to remember to.
final class CommitSignals: Sendable {
    private let listeners = Mutex<[String: @Sendable () -> Void]>([:])
    private let pagingListener = Mutex<(@Sendable () -> Void)?>(nil)

    /// Calls `body` after every commit that queued a reply for `platform` (replaces an earlier listener).
    func onEnqueue(platform: String, _ body: @escaping @Sendable () -> Void) {
        listeners.withLock { $0[platform] = body }
    }

    func enqueued(platform: String) {
        let body = listeners.withLock { $0[platform] }
        body?()
    }

    /// Calls `body` after every commit that changed pages, deliveries or on-call overrides
    /// (the escalation timer's wake-up).
    func onPagingChange(_ body: @escaping @Sendable () -> Void) {
        pagingListener.withLock { $0 = body }
    }

    func pagingChanged() {
        pagingListener.withLock { $0 }?()
    }
}
