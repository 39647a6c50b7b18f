import Synchronization

/// Tells the outbox of a platform that a committed transaction queued a reply for it: the
/// store wakes the sender, so no caller has to remember to.
final class CommitSignals: Sendable {
    private let listeners = Mutex<[String: @Sendable () -> Void]>([:])

    /// Calls `body` after every commit that queued a reply for `platform` (replaces an earlier listener).
    func onEnqueue(platform: String, _ body: @escaping @Sendable () -> Void) {
        listeners.withLock { $0[platform] = body }
    }

    func enqueued(platform: String) {
        let body = listeners.withLock { $0[platform] }
        body?()
    }
}
