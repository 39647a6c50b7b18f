import Foundation
import Synchronization
import TriageCore

/// Orders commands per room without letting one hold up the next for long: a command starts
/// when the room's previous one has finished or has run for `headStart` seconds, whichever
/// comes first. So `/incident open` then `/note` keep their order, while a `/confirm` waiting
/// on a lock never delays `/ping`. Rooms never wait for each other.
final class RoomLanes: Sendable {
    let headStart: Double
    private let tails = Mutex<[String: Gate]>([:])

    init(headStart: Double = 0.5) {
        self.headStart = headStart
    }

    /// A place in a room's lane, taken in arrival order (before the command's task starts: the
    /// tasks of one batch may start in any order).
    struct Ticket: Sendable {
        let room: String
        let gate: Gate
        let previous: Gate?
    }

    /// Takes the next place in `room`'s lane.
    func reserve(room: String) -> Ticket {
        let gate = Gate()
        let previous = tails.withLock { t -> Gate? in
            let p = t[room]
            t[room] = gate
            return p
        }
        return Ticket(room: room, gate: gate, previous: previous)
    }

    /// Runs `work` in `room`'s lane.
    func run(room: String, _ work: @Sendable () async -> Void) async {
        await run(reserve(room: room), work)
    }

    /// Runs `work` at the place `ticket` took.
    func run(_ ticket: Ticket, _ work: @Sendable () async -> Void) async {
        if headStart.isFinite {
            await ticket.previous?.wait(atMost: headStart)
        } else {
            await ticket.previous?.wait()
        }
        await work()
        ticket.gate.open()
        tails.withLock { t in if t[ticket.room] === ticket.gate { t[ticket.room] = nil } }
    }
}

/// Opened once; waiters wake when it opens or their own time is up. A waiter's timer is
/// removed when the gate opens first, so a queued command leaves no timer behind.
final class Gate: Sendable {
    struct Waiter {
        var continuation: CheckedContinuation<Void, Never>
        var timer: OneShotTimer?
    }
    private let state = Mutex<(open: Bool, waiters: [Int: Waiter], next: Int)>((false, [:], 0))

    func open() {
        let waiters = state.withLock { s -> [Waiter] in
            s.open = true
            let w = Array(s.waiters.values)
            s.waiters = [:]
            return w
        }
        for w in waiters {
            w.timer?.cancel()
            w.continuation.resume()
        }
    }

    var isOpen: Bool { state.withLock { $0.open } }

    /// Returns when the gate opens.
    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready: Bool = state.withLock { s in
                if s.open { return true }
                s.next += 1
                s.waiters[s.next] = Waiter(continuation: c, timer: nil)
                return false
            }
            if ready { c.resume() }
        }
    }

    /// Returns when the gate opens, or after `seconds`.
    func wait(atMost seconds: Double) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            state.withLock { s in
                if s.open {
                    c.resume()
                    return
                }
                s.next += 1
                let id = s.next
                let timer = OneShotTimer(after: seconds) { [weak self] in
                    let w = self?.state.withLock { $0.waiters.removeValue(forKey: id) }
                    w?.continuation.resume()
                }
                s.waiters[id] = Waiter(continuation: c, timer: timer)
            }
        }
    }
}
