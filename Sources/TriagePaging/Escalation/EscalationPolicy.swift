/// Who a level of an escalation policy notifies.
public enum EscalationTarget: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Whoever is on call in this schedule when the level is reached.
    case schedule(String)
    /// One person (key in `paging.people`).
    case person(String)
    /// A chat room: `incident` (the page's own room) or `platform:room`.
    case room(String)

    public var description: String {
        switch self {
        case .schedule(let s): "schedule \(s)"
        case .person(let p): p
        case .room(let r): "room \(r)"
        }
    }
}

/// One level: its targets, how it notifies them, and how long it waits for an acknowledgement.
public struct EscalationLevel: Codable, Sendable, Equatable {
    public var targets: [EscalationTarget]
    /// Seconds to wait for an acknowledgement before the next level.
    public var waitSeconds: Int
    /// Provider names (`chat`, `pagerduty`, `opsgenie`, `webhook`).
    public var notify: [String]

    public init(targets: [EscalationTarget], waitSeconds: Int, notify: [String]) {
        self.targets = targets
        self.waitSeconds = waitSeconds
        self.notify = notify
    }
}

/// Ordered levels, repeated `repeats` more times when nobody acknowledges.
public struct EscalationPolicy: Codable, Sendable, Equatable {
    public var name: String
    public var levels: [EscalationLevel]
    public var repeats: Int

    public init(name: String, levels: [EscalationLevel], repeats: Int) {
        self.name = name
        self.levels = levels
        self.repeats = repeats
    }

    /// A fresh state machine for this policy.
    public func stateMachine() -> EscalationStateMachine {
        EscalationStateMachine(waits: levels.map(\.waitSeconds), repeats: repeats)
    }
}
