import Synchronization

/// Hands the outbox of a platform each reply a committed transaction queued for it: the
/// store wakes the sender, with the reply in memory, so no caller has to remember to and the
/// sender need not read it back.
final class CommitSignals: Sendable {
    private let listeners = Mutex<[String: @Sendable (OutboxMessage) -> Void]>([:])
    private let pagingListener = Mutex<(@Sendable () -> Void)?>(nil)

    /// Calls `body` after every commit that queued a reply for `platform` (replaces an earlier listener).
    func onEnqueue(platform: String, _ body: @escaping @Sendable (OutboxMessage) -> Void) {
        listeners.withLock { $0[platform] = body }
    }

    func enqueued(_ messages: [OutboxMessage]) {
        let bodies = listeners.withLock { $0 }
        for message in messages { bodies[message.platform]?(message) }
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
