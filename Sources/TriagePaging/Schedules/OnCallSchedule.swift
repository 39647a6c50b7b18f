import Foundation

/// A rotation of people: each takes a shift of `rotationSeconds`, handing off at a local
/// wall-clock time in the schedule's time zone (so a daily or weekly handoff stays at 09:00
/// across daylight-saving changes). Overrides win over the rotation while they last.
public struct OnCallSchedule: Sendable, Equatable {
    public var name: String
    public var timeZone: TimeZone
    public var handoffHour: Int
    public var handoffMinute: Int
    /// Shift length. Whole days are counted in calendar days of `timeZone`; anything else in
    /// elapsed seconds from the first handoff.
    public var rotationSeconds: Int
    /// The local date of the first handoff (the first person's first shift).
    public var startYear: Int, startMonth: Int, startDay: Int
    /// People's keys in rotation order.
    public var people: [String]
    /// Overrides from the config file (runtime ones live in the store).
    public var overrides: [OnCallOverride]

    public init(name: String, timeZone: TimeZone, handoffHour: Int, handoffMinute: Int, rotationSeconds: Int,
                start: (year: Int, month: Int, day: Int), people: [String], overrides: [OnCallOverride] = []) {
        precondition(!people.isEmpty && rotationSeconds > 0)
        self.name = name
        self.timeZone = timeZone
        self.handoffHour = handoffHour
        self.handoffMinute = handoffMinute
        self.rotationSeconds = rotationSeconds
        startYear = start.year
        startMonth = start.month
        startDay = start.day
        self.people = people
        self.overrides = overrides
    }

    public static func == (a: OnCallSchedule, b: OnCallSchedule) -> Bool {
        a.name == b.name && a.timeZone.identifier == b.timeZone.identifier && a.handoffHour == b.handoffHour
            && a.handoffMinute == b.handoffMinute && a.rotationSeconds == b.rotationSeconds && a.people == b.people
            && a.startYear == b.startYear && a.startMonth == b.startMonth && a.startDay == b.startDay && a.overrides == b.overrides
    }

    /// One stretch of time with one person on call.
    public struct Shift: Sendable, Equatable {
        public var person: String
        public var startsAt: Date
        public var endsAt: Date
        /// Set when an override, not the rotation, puts `person` on call.
        public var isOverride: Bool
    }

    var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timeZone
        return c
    }

    var wholeDays: Int? { rotationSeconds % 86400 == 0 ? rotationSeconds / 86400 : nil }

    /// The first handoff instant.
    public var anchor: Date {
        handoff(year: startYear, month: startMonth, day: startDay)
    }

    func handoff(year: Int, month: Int, day: Int) -> Date {
        calendar.date(from: DateComponents(year: year, month: month, day: day, hour: handoffHour, minute: handoffMinute))!
    }

    /// The rotation's shift covering `date` (overrides not applied).
    public func rotationShift(at date: Date) -> Shift {
        let index: Int
        let start: Date, end: Date
        if let days = wholeDays {
            let cal = calendar
            let local = cal.dateComponents([.year, .month, .day], from: date)
            var shiftDay = handoff(year: local.year!, month: local.month!, day: local.day!)
            if shiftDay > date { shiftDay = cal.date(byAdding: .day, value: -1, to: shiftDay)! }
            let dayNumber = cal.dateComponents([.day], from: cal.startOfDay(for: anchor), to: cal.startOfDay(for: shiftDay)).day!
            index = Self.floorDiv(dayNumber, days)
            start = cal.date(byAdding: .day, value: index * days, to: anchor)!
            end = cal.date(byAdding: .day, value: (index + 1) * days, to: anchor)!
        } else {
            let elapsed = date.timeIntervalSince(anchor)
            index = Int((elapsed / Double(rotationSeconds)).rounded(.down))
            start = anchor.addingTimeInterval(Double(index * rotationSeconds))
            end = start.addingTimeInterval(Double(rotationSeconds))
        }
        let person = people[((index % people.count) + people.count) % people.count]
        return Shift(person: person, startsAt: start, endsAt: end, isOverride: false)
    }

    /// Who is on call at `date`, and until when, with `extra` overrides (from the store)
    /// considered after the config's; the most recent override wins.
    public func shift(at date: Date, extraOverrides extra: [OnCallOverride] = []) -> Shift {
        let all = (overrides + extra).filter { $0.schedule == name }
        if let o = all.last(where: { $0.covers(date) }) {
            // Until the override ends, or a later override starts.
            let end = all.filter { $0.startsAt > date && $0.startsAt < o.endsAt }.map(\.startsAt).min() ?? o.endsAt
            return Shift(person: o.person, startsAt: o.startsAt, endsAt: end, isOverride: true)
        }
        var s = rotationShift(at: date)
        if let nextOverride = all.filter({ $0.startsAt > date && $0.startsAt < s.endsAt }).map(\.startsAt).min() {
            s.endsAt = nextOverride
        }
        if let lastEnded = all.filter({ $0.endsAt <= date && $0.endsAt > s.startsAt }).map(\.endsAt).max() {
            s.startsAt = lastEnded
        }
        return s
    }

    /// The shift on call now and the one after it.
    public func nowAndNext(at date: Date, extraOverrides extra: [OnCallOverride] = []) -> (now: Shift, next: Shift) {
        let now = shift(at: date, extraOverrides: extra)
        return (now, shift(at: now.endsAt, extraOverrides: extra))
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    /// `2026-03-29 09:00 Europe/Berlin (UTC+02:00)`
    public func localDescription(of date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let offset = timeZone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        let a = abs(offset)
        return String(format: "%04d-%02d-%02d %02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!)
            + " \(timeZone.identifier) (UTC\(sign)" + String(format: "%02d:%02d", a / 3600, a % 3600 / 60) + ")"
    }
}
