import Foundation

/// Where one page's escalation is: a value type fed with events that returns the actions to
/// carry out (notify a level, wait, tell providers). It holds no clock and does no I/O, so
/// tests drive it with any dates and the engine persists it as plain columns.
public struct EscalationStateMachine: Codable, Sendable, Equatable {
    /// The life of a page.
    public enum Phase: String, Codable, Sendable, CaseIterable {
        /// Created; no level notified yet.
        case pending
        /// A level was notified; waiting for an acknowledgement until ``EscalationStateMachine/nextAt``.
        case waiting
        /// Someone acknowledged: nobody else is paged.
        case acknowledged
        /// Every level of every round was notified and nobody acknowledged.
        case exhausted
        /// The incident (or page) was resolved.
        case resolved

        /// Whether the escalation still pages people.
        public var isActive: Bool { self == .pending || self == .waiting }
    }

    /// What the engine has to do after an event.
    public enum Action: Sendable, Equatable {
        /// Notify the targets of `level` (0-based) in `round` (0-based).
        case notify(level: Int, round: Int)
        /// Come back at this time (fire ``timerFired(at:)``).
        case wait(until: Date)
        /// Nobody acknowledged after the last level of the last round.
        case exhausted
        /// Send `acknowledge` to the providers that were triggered.
        case acknowledge
        /// Send `resolve` to the providers that were triggered.
        case resolve
    }

    /// Seconds to wait for an acknowledgement after notifying each level.
    public var waits: [Int]
    /// How many times the whole policy is repeated after the first round.
    public var repeats: Int
    public private(set) var phase: Phase
    /// The level last notified (0-based).
    public private(set) var level: Int
    /// The round of the level last notified (0-based).
    public private(set) var round: Int
    /// When the current level's wait ends.
    public private(set) var nextAt: Date?

    /// - Parameters:
    ///   - waits: seconds to wait after each level (one entry per level, at least one).
    ///   - repeats: how many extra rounds after the first.
    public init(waits: [Int], repeats: Int) {
        precondition(!waits.isEmpty, "an escalation needs at least one level")
        self.waits = waits
        self.repeats = max(0, repeats)
        phase = .pending
        level = 0
        round = 0
        nextAt = nil
    }

    /// Restores a persisted state.
    public init(waits: [Int], repeats: Int, phase: Phase, level: Int, round: Int, nextAt: Date?) {
        self.init(waits: waits, repeats: repeats)
        self.phase = phase
        self.level = level
        self.round = round
        self.nextAt = nextAt
    }

    public var levelCount: Int { waits.count }

    /// Starts the escalation: notify level 1 and wait.
    public mutating func start(at now: Date) -> [Action] {
        guard phase == .pending else { return [] }
        phase = .waiting
        level = 0
        round = 0
        let until = now.addingTimeInterval(TimeInterval(waits[0]))
        nextAt = until
        return [.notify(level: 0, round: 0), .wait(until: until)]
    }

    /// The wait of the current level may have ended. Nothing happens before ``nextAt``.
    /// The next deadline counts from the scheduled one, so a process that was down catches up
    /// level by level (each level is still notified once).
    public mutating func timerFired(at now: Date) -> [Action] {
        guard phase == .waiting, let due = nextAt, now >= due else { return [] }
        return advance(from: due)
    }

    /// Moves to the next level now (`/escalate`).
    public mutating func escalate(at now: Date) -> [Action] {
        guard phase == .waiting else { return [] }
        return advance(from: now)
    }

    /// Someone acknowledged: stop paging and acknowledge at the providers.
    public mutating func acknowledge(at now: Date) -> [Action] {
        switch phase {
        case .pending, .waiting, .exhausted:
            phase = .acknowledged
            nextAt = nil
            return [.acknowledge]
        case .acknowledged, .resolved:
            return []
        }
    }

    /// The incident is over: resolve at the providers.
    public mutating func resolve(at now: Date) -> [Action] {
        guard phase != .resolved else { return [] }
        phase = .resolved
        nextAt = nil
        return [.resolve]
    }

    private mutating func advance(from start: Date) -> [Action] {
        var nextLevel = level + 1
        var nextRound = round
        if nextLevel >= waits.count {
            nextLevel = 0
            nextRound += 1
        }
        guard nextRound <= repeats else {
            phase = .exhausted
            nextAt = nil
            return [.exhausted]
        }
        level = nextLevel
        round = nextRound
        let until = start.addingTimeInterval(TimeInterval(waits[nextLevel]))
        nextAt = until
        return [.notify(level: nextLevel, round: nextRound), .wait(until: until)]
    }
}
