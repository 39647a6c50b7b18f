import Testing
@testable import TriageRuntime

/// The cursor moves past a batch only once its journal and every one of its instant commands
/// are recorded, and never past an earlier batch still open.
@Suite struct CursorWatermarkTests {
    @Test func aBatchIsPassedOnlyWhenEverythingInItIsRecorded() {
        let w = CursorWatermark()
        let b1 = w.begin(cursor: "1", instant: 2)
        #expect(b1.journal.settle() == nil)          // two instant commands still open
        #expect(b1.instant[0].settle() == nil)
        #expect(b1.instant[1].settle() == "1")      // the last one stores the cursor
    }

    /// The next poll (which acknowledges the batch to Telegram) waits for the gate: settling
    /// happens inside the recording transaction, so the gate opens only on `publish()`, after
    /// the commit. Opened at `settle()`, a kill between it and the commit lost the command.
    @Test func theGateOpensOnlyWhenTheLastPartIsPublished() {
        let w = CursorWatermark()
        let b1 = w.begin(cursor: "1", instant: 2)
        #expect(b1.journal.settle() == nil)
        b1.journal.publish()
        #expect(b1.instant[0].settle() == nil)
        #expect(b1.instant[1].settle() == "1")
        #expect(!b1.recorded.isOpen)                 // settled, not yet committed
        b1.instant[0].publish()                      // not the part that closed the batch
        #expect(!b1.recorded.isOpen)
        b1.instant[1].publish()
        #expect(b1.recorded.isOpen)
        b1.instant[1].publish()                      // harmless twice
        #expect(b1.recorded.isOpen)
    }

    @Test func aLaterBatchNeverOvertakesAnEarlierOpenOne() {
        let w = CursorWatermark()
        let b1 = w.begin(cursor: "1", instant: 1)
        let b2 = w.begin(cursor: "2", instant: 0)
        #expect(b1.journal.settle() == nil)
        #expect(b2.journal.settle() == nil)          // batch 1's /ping has not committed
        #expect(b1.instant[0].settle() == "2")      // it has now: past both batches at once
        let b3 = w.begin(cursor: "3", instant: 0)
        #expect(b3.journal.settle() == "3")
    }

    @Test func aSlotSettlesOnce() {
        let w = CursorWatermark()
        let b1 = w.begin(cursor: "1", instant: 2)
        #expect(b1.journal.settle() == nil)
        #expect(b1.instant[0].settle() == nil)
        // Settling the same command twice (its commit, then the fallback) must not count as the other.
        #expect(b1.instant[0].settle() == nil)
        #expect(b1.journal.settle() == nil)
        #expect(b1.instant[1].settle() == "1")
    }

    @Test func anAbandonedBatchDoesNotHoldTheWatermark() {
        let w = CursorWatermark()
        let failed = w.begin(cursor: "1", instant: 1)
        w.abandon(failed.journal)                    // its journal failed: it is polled again
        let again = w.begin(cursor: "1", instant: 0)
        #expect(again.journal.settle() == "1")
    }

    @Test func recentIDsForgetTheOldestBeyondCapacity() {
        var ids = RecentIDs(capacity: 3)
        for id in Int64(1)...4 { ids.insert(id) }
        #expect(!ids.contains(1))
        #expect(ids.contains(2) && ids.contains(3) && ids.contains(4))
        ids.insert(4)                                // already there: nothing forgotten
        #expect(ids.contains(2))
    }
}
