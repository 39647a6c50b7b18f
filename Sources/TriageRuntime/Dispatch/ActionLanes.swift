import Foundation
import Synchronization

/// Actions on one database target run one at a time; the next waits its turn (and its room
/// is told what it waits for). Diagnostics never come here.
final class ActionLanes: Sendable {
    struct Holder: Sendable {
        var id = UUID()
        var line: String
        var person: String
        var since: Date
    }
    private struct Lane {
        var holder: Holder?
        var waiters: [(id: UUID, holder: Holder, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let lanes = Mutex<[String: Lane]>([:])

    /// Takes `target`'s lane; when it is busy, `waiting` is called with who holds it, then this waits.
    /// - Returns: false when the task was cancelled before it got the lane (nothing to release).
    func acquire(_ target: String, as holder: Holder, waiting: (Holder) async -> Void) async -> Bool {
        let busy: Holder? = lanes.withLock { l in
            var lane = l[target] ?? Lane()
            defer { l[target] = lane }
            if let h = lane.holder { return h }
            lane.holder = holder
            return nil
        }
        guard let busy else { return true }
        await waiting(busy)
        let id = UUID()
        let got = Mutex(false)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lanes.withLock { l in
                    var lane = l[target] ?? Lane()
                    defer { l[target] = lane }
                    if lane.holder == nil { lane.holder = holder; got.withLock { $0 = true }; return true }
                    if Task.isCancelled { return true }
                    lane.waiters.append((id, holder, c))
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            // Stopping: the waiter leaves the queue (its action did not run).
            let c = lanes.withLock { l -> CheckedContinuation<Void, Never>? in
                guard var lane = l[target], let i = lane.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                let c = lane.waiters.remove(at: i).continuation
                l[target] = lane
                return c
            }
            c?.resume()
        }
        // Handed the lane by release(), or took it free: it holds the lane unless it left cancelled.
        return lanes.withLock { l in l[target]?.holder?.id == holder.id }
            || got.withLock { $0 }
    }

    /// Hands `target`'s lane to the next waiter, if any.
    func release(_ target: String) {
        let next: CheckedContinuation<Void, Never>? = lanes.withLock { l in
            guard var lane = l[target] else { return nil }
            defer { l[target] = lane.holder == nil && lane.waiters.isEmpty ? nil : lane }
            guard !lane.waiters.isEmpty else { lane.holder = nil; return nil }
            let next = lane.waiters.removeFirst()
            lane.holder = next.holder
            return next.continuation
        }
        next?.resume()
    }
}
