import Foundation

/// Someone standing in for a schedule's rotation for a while.
public struct OnCallOverride: Codable, Sendable, Equatable {
    public var schedule: String
    /// The person's key in `paging.people`.
    public var person: String
    public var startsAt: Date
    public var endsAt: Date

    public init(schedule: String, person: String, startsAt: Date, endsAt: Date) {
        self.schedule = schedule
        self.person = person
        self.startsAt = startsAt
        self.endsAt = endsAt
    }

    public func covers(_ date: Date) -> Bool { startsAt <= date && date < endsAt }
}
