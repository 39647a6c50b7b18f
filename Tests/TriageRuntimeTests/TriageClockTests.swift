import Foundation
import Logging
import Synchronization
import Testing
import TriageChat
import TriageCore
import TriageHandlers
import TriageRuntime
import TriageStore
import TriageTesting

/// The one injected clock: waits and expiries follow the clock the composition root is given,
/// so a test moves time by hand and never waits on the wall clock.
@Suite struct TriageClockTests {
    @Test func sleepReturnsWhenTheClockGetsThereAndNotBefore() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let woke = Mutex(false)
        let sleeper = Task {
            try await clock.sleep(until: clock.now.addingTimeInterval(60))
            woke.withLock { $0 = true }
        }
        #expect(await clock.waitForTimers(1))
        clock.advance(59)
        #expect(clock.pendingTimers == 1 && !woke.withLock { $0 }, "one second early: still asleep")
        clock.advance(1)
        try await sleeper.value
        #expect(woke.withLock { $0 } && clock.pendingTimers == 0)
    }

    @Test func aCancelledSleepThrowsAndLeavesNoTimer() async throws {
        let clock = TestClock()
        let sleeper = Task { try await clock.sleep(until: clock.now.addingTimeInterval(3600)) }
        #expect(await clock.waitForTimers(1))
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.pendingTimers == 0)
    }

    @Test func aWakeSignalOnTheClockRingsEarlyAndRemovesItsTimer() async {
        let clock = TestClock()
        let signal = WakeSignal(clock: clock)
        let waiter = Task { await signal.wait(atMost: 300) }
        #expect(await clock.waitForTimers(1))
        signal.ring()
        await waiter.value
        #expect(clock.pendingTimers == 0)
        // A deadline already past returns at once.
        await signal.wait(until: clock.now.addingTimeInterval(-1))
    }

    /// An action with a preview that counts its runs.
    final class Poke: ActionHandler {
        let runs = Mutex(0)
        var declarations: [CommandDeclaration] {
            [CommandDeclaration(words: ["poke"], summary: "Pokes.", kind: .action, role: .operator, confirmations: 1)]
        }
        func handle(_ context: CommandContext) async throws -> CommandOutcome { CommandOutcome(reply: .text("unconfirmed")) }
        func preview(_ context: CommandContext) async throws -> ActionPreview { ActionPreview(blocks: [.text("would poke")], summary: "poke") }
        func execute(_ context: CommandContext, captured: [String: [String?]], target: String?) async throws -> ActionResult {
            runs.withLock { $0 += 1 }
            return ActionResult(blocks: [], summary: "poked")
        }
    }

    @Test func confirmationTokensExpireOnTheInjectedClock() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let poke = Poke()
        let dispatcher = Dispatcher(handlers: [poke], store: try BotStore.inMemory(),
                                    logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }), clock: clock)
        var n = 0
        func say(_ text: String) async -> String {
            n += 1
            let m = InboundMessage(platform: "console", room: "ops", sender: "@alice", text: text, messageID: "m\(n)", role: .operator)
            return TextRenderer().render(await dispatcher.handle(m) ?? Reply())
        }
        func token(_ text: String) -> String? {
            text.components(separatedBy: "/confirm ").dropFirst().first.map { String($0.prefix(8)) }
        }
        let early = try #require(token(await say("/poke")))
        let late = try #require(token(await say("/poke")))
        clock.advance(299)
        #expect(await say("/confirm \(early)").contains("Done"))
        clock.advance(2)
        let expired = await say("/confirm \(late)")
        #expect(expired.contains("expired"), "\(expired)")
        #expect(poke.runs.withLock { $0 } == 1)
    }
}
