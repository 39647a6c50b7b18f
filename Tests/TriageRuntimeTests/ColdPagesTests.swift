import Foundation
import Testing
@testable import TriageRuntime

@Suite struct ColdPagesTests {
    @Test func fileMappingsAreTheOnlyOnesPicked() {
        let maps = """
            55d0c0000000-55d0c1000000 r--p 00000000 fd:01 1234   /opt/triage/bin/triage
            55d0c1000000-55d0c2600000 r-xp 01000000 fd:01 1234   /opt/triage/bin/triage
            55d0c2600000-55d0c2a00000 rw-p 02600000 fd:01 1234   /opt/triage/bin/triage
            55d0c3000000-55d0c3100000 rw-p 00000000 00:00 0      [heap]
            7f0000000000-7f0000100000 r-xp 00000000 00:00 0      [vdso]
            7f1000000000-7f1000200000 r-xp 00000000 fd:01 99     /usr/lib/x86_64-linux-gnu/lib with space.so
            7f2000000000-7f2000001000 ---p 00000000 fd:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6
            garbage line
            zzzz-7f3 r-xp 00000000 fd:01 5 /bad/start
            7f4000001000-7f4000000000 r-xp 00000000 fd:01 5 /end/before/start
            """
        let picked = ColdPages.fileMappings(maps)
        #expect(picked.map(\.path) == ["/opt/triage/bin/triage", "/opt/triage/bin/triage", "/opt/triage/bin/triage",
                                       "/usr/lib/x86_64-linux-gnu/lib with space.so"])
        #expect(picked[1] == .init(start: 0x55d0c1000000, end: 0x55d0c2600000, path: "/opt/triage/bin/triage"))
    }

    /// The test binary's own code is resident once its tests have run; paging out must
    /// shrink what is resident, and what is needed comes back on use (this test goes on).
    @Test func pageOutShrinksResidentFileMemory() throws {
        #if os(Linux)
        let before = try #require(ColdPages.residentFileBytes())
        let advised = ColdPages.pageOut()
        let after = try #require(ColdPages.residentFileBytes())
        #expect(advised > 0)
        #expect(after + (1 << 20) < before, "resident file memory \(before >> 10) KiB → \(after >> 10) KiB")
        #expect(ColdPages.fileMappings("x").isEmpty)
        #endif
    }

    @Test func pageOutIsDueOnceInTheInterval() {
        let t0 = Date(timeIntervalSince1970: 2_000_000_000)
        let interval = ColdPages.Schedule.minimumInterval
        var s = ColdPages.Schedule()
        // at: seconds after t0 asked, in order; what was answered.
        let asked: [Double] = [0, 0, interval - 1, interval + 1, 0, 1]
        let answers = asked.map { s.due(now: t0.addingTimeInterval($0)) }
        // Due first; not again within the interval; due after it; a clock that went back is
        // due, and the interval counts from then.
        #expect(answers == [true, false, false, true, true, false])
    }
}
