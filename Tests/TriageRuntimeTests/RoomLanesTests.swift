import Foundation
import Synchronization
import Testing
@testable import TriageRuntime

/// Commands of one room keep their arrival order even when their tasks start in another order
/// (the tasks of one poll batch run in a task group, started in any order); one that runs
/// long lets the next start after the head start.
@Suite struct RoomLanesTests {
    final class Log: Sendable {
        let entries = Mutex<[String]>([])
        func add(_ s: String) { entries.withLock { $0.append(s) } }
        var all: [String] { entries.withLock { $0 } }
    }

    @Test func placesAreTakenInArrivalOrderNotTaskStartOrder() async throws {
        let lanes = RoomLanes(headStart: .infinity)   // strictly in order (the console pipe)
        let log = Log()
        let first = lanes.reserve(room: "r"), second = lanes.reserve(room: "r")
        let other = lanes.reserve(room: "elsewhere")
        // The second command's task starts first…
        let late = Task { await lanes.run(second) { log.add("second") } }
        let elsewhere = Task { await lanes.run(other) { log.add("other room") } }
        await elsewhere.value
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(log.all == ["other room"], "the second waits for the first; another room does not")
        // …and still runs after the first.
        await lanes.run(first) { log.add("first") }
        await late.value
        #expect(log.all == ["other room", "first", "second"])
    }

    @Test func aLongCommandHoldsTheNextOnlyForTheHeadStart() async throws {
        // The first command runs until the second has finished (at most 30 s): the second can
        // only finish first if the head start let it start (no timing to race on a loaded machine).
        let lanes = RoomLanes(headStart: 0.2)
        let log = Log()
        let slow = lanes.reserve(room: "r"), quick = lanes.reserve(room: "r")
        let long = Task {
            await lanes.run(slow) {
                for _ in 0..<600 where !log.all.contains("quick") { try? await Task.sleep(nanoseconds: 50_000_000) }
                log.add("slow")
            }
        }
        await lanes.run(quick) { log.add("quick") }
        await long.value
        #expect(log.all == ["quick", "slow"])
    }
}
