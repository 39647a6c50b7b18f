import Foundation
import Synchronization

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

    /// Runs `work` in `room`'s lane.
    func run(room: String, _ work: @Sendable () async -> Void) async {
        let gate = Gate()
        let previous = tails.withLock { t -> Gate? in
            let p = t[room]
            t[room] = gate
            return p
        }
        if headStart.isFinite {
            await previous?.wait(atMost: headStart)
        } else {
            await previous?.wait()
        }
        await work()
        gate.open()
        tails.withLock { t in if t[room] === gate { t[room] = nil } }
    }
}

/// Opened once; waiters wake when it opens or their own time is up.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [Int: CheckedContinuation<Void, Never>], next: Int)>((false, [:], 0))

    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            let w = Array(s.waiters.values)
            s.waiters = [:]
            return w
        }
        for w in waiters { w.resume() }
    }

    /// Returns when the gate opens.
    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready: Bool = state.withLock { s in
                if s.open { return true }
                s.next += 1
                s.waiters[s.next] = c
                return false
            }
            if ready { c.resume() }
        }
    }

    /// Returns when the gate opens, or after `seconds`.
    func wait(atMost seconds: Double) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let id: Int? = state.withLock { s in
                if s.open { return nil }
                s.next += 1
                s.waiters[s.next] = c
                return s.next
            }
            guard let id else { c.resume(); return }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                let w = state.withLock { $0.waiters.removeValue(forKey: id) }
                w?.resume()
            }
        }
    }
}
