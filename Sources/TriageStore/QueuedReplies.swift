import Foundation
import Synchronization

/// The replies one write transaction queued, handed to the outbox in memory once it committed
/// (those queued inside a savepoint that rolled back are taken out again). Lives and dies
/// with its transaction (the lock is uncontended: it only makes it Sendable, to cross from the
/// store's writer queue back to the caller).
final class QueuedReplies: Sendable {
    private let state = Mutex<[OutboxMessage]>([])

    func add(_ message: OutboxMessage) {
        state.withLock { $0.append(message) }
    }

    var count: Int { state.withLock { $0.count } }

    /// Drops the replies queued after the first `count` (a savepoint rolled back).
    func truncate(to count: Int) {
        state.withLock { m in if m.count > count { m.removeSubrange(count...) } }
    }

    var messages: [OutboxMessage] { state.withLock { $0 } }
}
