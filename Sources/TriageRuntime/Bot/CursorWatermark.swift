import Synchronization

/// The platform cursor as a watermark: it is stored only past batches whose every command is
/// recorded. A batch's journaled commands are recorded by its journal transaction; its instant
/// ones (answered from Triage's own state, not journaled) by their handling commits. Whichever
/// of those transactions records the last open part of the oldest open batches stores their
/// cursor, inside the same transaction (the slots are settled inside the store's write
/// closures, which run one at a time). So a crash before leaves the cursor before the command,
/// and the platform delivers it again (its processed mark drops it if it did commit).
///
/// The batch's gate (what the next poll waits for) opens only once the transaction that closed
/// its last part has committed: ``Slot/publish()``, called after the write returns. Opened
/// inside the transaction, the poll could acknowledge the batch to the platform before the
/// commit, and a kill in between would lose the command.
final class CursorWatermark: Sendable {
    struct Batch {
        let cursor: String?
        var open: Int
        /// Opens when everything in the batch is recorded.
        let recorded: Gate
    }
    struct State {
        /// Batches not yet past the watermark, oldest first.
        var batches: [(serial: Int, batch: Batch)] = []
        var nextSerial = 0
    }
    private let state = Mutex(State())

    /// One instant command's claim on its batch's watermark: settled exactly once, by its
    /// handling commit or, on any other path, afterwards.
    final class Slot: Sendable {
        let watermark: CursorWatermark
        let serial: Int
        private let settled = Atomic<Bool>(false)
        private let journaledLate = Atomic<Bool>(false)
        /// The batch's gate, when settling this slot recorded the batch's last part: opened by
        /// ``publish()``, after the commit.
        private let recorded = Mutex<Gate?>(nil)

        init(watermark: CursorWatermark, serial: Int) {
            self.watermark = watermark
            self.serial = serial
        }

        var isSettled: Bool { settled.load(ordering: .acquiring) }

        /// The command was journaled after all (it took too long to record, and the poll
        /// must go on): its handling commit also finishes that journal entry. Set inside the
        /// store transaction that journals it, so a handling commit after it sees it.
        var wasJournaledLate: Bool { journaledLate.load(ordering: .acquiring) }

        func markJournaledLate() { journaledLate.store(true, ordering: .releasing) }

        /// The cursor to store now, if settling this command moves the watermark (nil when it
        /// was settled before, or an earlier batch is still open).
        /// Call it inside the transaction that records the command; then ``publish()``.
        func settle() -> String? {
            guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return nil }
            let (cursor, done) = watermark.close(serial)
            if let done { recorded.withLock { $0 = done } }
            return cursor
        }

        /// Opens the batch's gate if settling this slot recorded the batch's last part. Call it
        /// once the transaction that settled it has committed (or failed: the poll must not
        /// wait for a command that will not be recorded).
        func publish() {
            let gate = recorded.withLock { g -> Gate? in
                defer { g = nil }
                return g
            }
            gate?.open()
        }
    }

    /// Registers a batch: its journal and its `instant` commands, each still to record.
    /// - Returns: the journal's slot, one slot per instant command, and a gate that opens once
    ///   all of them are recorded (a platform whose poll acknowledges what it got, as
    ///   Telegram's offset does, must not poll past the batch before).
    func begin(cursor: String?, instant: Int) -> (journal: Slot, instant: [Slot], recorded: Gate) {
        state.withLock { s -> (Slot, [Slot], Gate) in
            let serial = s.nextSerial
            s.nextSerial += 1
            let gate = Gate()
            s.batches.append((serial, Batch(cursor: cursor, open: instant + 1, recorded: gate)))
            return (Slot(watermark: self, serial: serial), (0..<instant).map { _ in Slot(watermark: self, serial: serial) }, gate)
        }
    }

    /// Forgets the batch of `journal` (its journal failed; the platform delivers it again).
    func abandon(_ journal: Slot) {
        let gates = state.withLock { s -> [Gate] in
            let gone = s.batches.filter { $0.serial == journal.serial }.map(\.batch.recorded)
            s.batches.removeAll { $0.serial == journal.serial }
            return gone
        }
        for g in gates { g.open() }
    }

    /// Closes one part of batch `serial`: the cursor to store now (if the watermark moved) and
    /// the batch's gate when that was its last part (to open after the commit).
    func close(_ serial: Int) -> (cursor: String?, recorded: Gate?) {
        state.withLock { s -> (String?, Gate?) in
            var done: Gate?
            if let i = s.batches.firstIndex(where: { $0.serial == serial }) {
                s.batches[i].batch.open -= 1
                if s.batches[i].batch.open <= 0 { done = s.batches[i].batch.recorded }
            }
            return (Self.advance(&s), done)
        }
    }

    /// Pops the closed batches at the head; the newest cursor among them, if any.
    private static func advance(_ s: inout State) -> String? {
        var cursor: String?
        while let first = s.batches.first, first.batch.open <= 0 {
            if let c = first.batch.cursor { cursor = c }
            s.batches.removeFirst()
        }
        return cursor
    }
}
