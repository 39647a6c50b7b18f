import Foundation
import Testing
import TriageTesting
@testable import TriageRuntime
@testable import TriageRunbook
@testable import TriageIncidents
import TriageHandlers
import TriageChat
import TriageStore

/// The token rules on a real SQLite file: single use, expiry, rooms, second confirmation.
@Suite struct ConfirmationStoreTests {
    func store() throws -> BotStore {
        let dir = ProcessInfo.processInfo.environment["TRIAGE_TEST_WORK"] ?? NSTemporaryDirectory()
        return try BotStore(path: (dir as NSString).appendingPathComponent("confirm-\(UUID().uuidString).sqlite"))
    }

    func pending(_ token: String, needed: Int = 1, at t0: Date) -> PendingAction {
        PendingAction(token: token, platform: "p", room: "r", command: "pg vacuum", line: "/pg vacuum t", target: nil,
                      requestedBy: "@a", captured: ["schema": ["public"], "name": ["t"]], confirmationsNeeded: needed,
                      createdAt: t0, expiresAt: t0.addingTimeInterval(300))
    }

    @Test func aTokenRunsOnceInItsRoomBeforeItExpires() throws {
        let s = try store()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        try s.writeNow { try $0.insert(pending("aaaa", at: t0)) }
        func claim(_ token: String, room: String = "r", at t: Date) throws -> ConfirmationClaim {
            try s.writeNow { try $0.claim(token: token, platform: "p", room: room, by: "@b", personID: "@b", at: t, newToken: "next", expiresAt: t.addingTimeInterval(300)) }
        }
        #expect(try claim("nope", at: t0) == .unknown)
        #expect(try claim("aaaa", room: "x", at: t0) == .otherRoom)
        guard case .run(let a) = try claim("aaaa", at: t0.addingTimeInterval(10)) else { Issue.record("not run"); return }
        #expect(a.status == .running && a.confirmedBy == "@b")
        guard case .used = try claim("aaaa", at: t0.addingTimeInterval(20)) else { Issue.record("replay ran"); return }
        #expect(a.capturedValues == ["schema": ["public"], "name": ["t"]])
    }

    @Test func expiredAndCancelledTokensNeverRun() throws {
        let s = try store()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        try s.writeNow { tx in
            try tx.insert(pending("old", at: t0))
            try tx.insert(pending("gone", at: t0))
        }
        let late = try s.writeNow { try $0.claim(token: "old", platform: "p", room: "r", by: "@b", personID: "@b", at: t0.addingTimeInterval(300), newToken: "n", expiresAt: t0) }
        guard case .expired = late else { Issue.record("expired token ran"); return }
        #expect(try s.writeNow { try $0.cancel(token: "gone", at: t0) })
        #expect(!(try s.writeNow { try $0.cancel(token: "gone", at: t0) }))
        let after = try s.writeNow { try $0.claim(token: "gone", platform: "p", room: "r", by: "@b", personID: "@b", at: t0, newToken: "n", expiresAt: t0) }
        guard case .used(let a) = after else { Issue.record("cancelled token ran"); return }
        #expect(a.status == .cancelled)
    }

    @Test func aSecondConfirmationNeedsANewToken() throws {
        let s = try store()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        try s.writeNow { try $0.insert(pending("full", needed: 2, at: t0)) }
        let first = try s.writeNow { try $0.claim(token: "full", platform: "p", room: "r", by: "@b", personID: "@b", at: t0, newToken: "again", expiresAt: t0.addingTimeInterval(300)) }
        guard case .needsAnother(let next) = first else { Issue.record("ran after one confirmation"); return }
        #expect(next.token == "again" && next.confirmationsGiven == 1)
        guard case .used = try s.writeNow({ try $0.claim(token: "full", platform: "p", room: "r", by: "@b", personID: "@b", at: t0, newToken: "x", expiresAt: t0) }) else {
            Issue.record("first token reusable"); return
        }
        guard case .run(let a) = try s.writeNow({ try $0.claim(token: "again", platform: "p", room: "r", by: "@c", personID: "@c", at: t0, newToken: "x", expiresAt: t0) }) else {
            Issue.record("second confirmation did not run"); return
        }
        #expect(a.confirmedBy == "@b, @c")
    }

    @Test func arrayLiteralsQuoteEveryElement() {
        #expect(ConfirmationFlow.arrayLiteral(["1", nil, "a\"b", "c\\d", "x,y"]) == #"{"1",NULL,"a\"b","c\\d","x,y"}"#)
        #expect(ConfirmationFlow.arrayLiteral([]) == "{}")
        let token = ConfirmationStage.newToken()
        #expect(token.count == 8 && token.allSatisfy { "abcdefghjkmnpqrstuvwxyz23456789".contains($0) })
    }
}
