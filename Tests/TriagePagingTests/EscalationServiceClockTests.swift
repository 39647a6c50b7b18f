import Foundation
import Logging
import Testing
import TriageCore
import TriageStore
import TriageTesting
@testable import TriagePaging

/// The escalation service (the loop production runs) on the test clock: it sleeps on the
/// clock until the next level is due, and the test moves the clock instead of waiting 5 minutes.
@Suite(.serialized) struct EscalationServiceClockTests {
    @Test func theServiceEscalatesWhenTheTestClockReachesTheNextLevel() async throws {
        let f = try await PagingFixture()
        defer { f.stop() }
        let (store, engine) = try f.engine()
        let (_, page) = try await f.openIncident(store)
        let id = try #require(page.id)
        let service = EscalationService(engine: engine, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await service.run() }
        defer { service.stop(); running.cancel() }
        func level() async throws -> Int? { try await store.read { tx in try tx.page(id: id) }?.level }

        // The service sleeps on the test clock between passes (a timer pending there means its
        // pass is done). Each step jumps to its next wake: acknowledgement polls, then the
        // level's due time (the policy's first wait, 5 minutes).
        let due = try #require(page.nextAt)
        var steps = 0
        while f.clock.now < due, steps < 100 {
            #expect(await f.clock.waitForTimers(1), "asleep on the test clock, not on wall time")
            #expect(try await level() == 0, "nothing escalates before the wait ends (at \(f.clock.now))")
            let next = try #require(f.clock.nextDeadline)
            #expect(next <= due, "the service never sleeps past the due time")
            f.clock.set(next)
            steps += 1
        }
        #expect(f.clock.now == due)
        #expect(await f.clock.waitForTimers(1))
        #expect(try await level() == 1, "woken by the clock at the due time, the page went to level 2")
        service.stop()
        try await running.value
    }
}
