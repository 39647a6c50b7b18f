import Foundation

/// A `/sync` answer, as much of it as Triage reads: `next_batch`, the joined rooms' timelines
/// and the invites. Unknown fields are ignored, fields of the wrong type read as absent, a
/// room whose value is not an object is left out, and so is an event that is not one; nothing
/// else of the batch is lost.
public struct MatrixSync: Decodable, Sendable {
    /// The cursor for the next sync; nil when the answer has none (the reader refuses it).
    public var nextBatch: String?
    /// Joined rooms by room id.
    public var joined: [String: Timeline] = [:]
    /// Rooms the bot was invited to, sorted.
    public var invites: [String] = []

    /// A joined room's `timeline`.
    public struct Timeline: Sendable {
        public var events: [MatrixEvent] = []
        /// Elements of `events` that were not objects (left out).
        public var malformed = 0
        /// Events between the last sync and these are missing (`limited: true`).
        public var limited = false
        public var prevBatch: String?

        public init(events: [MatrixEvent] = [], limited: Bool = false, prevBatch: String? = nil) {
            self.events = events
            self.limited = limited
            self.prevBatch = prevBatch
        }
    }

    enum CodingKeys: String, CodingKey { case nextBatch = "next_batch", rooms }
    enum RoomsKeys: String, CodingKey { case join, invite }
    enum RoomKeys: String, CodingKey { case timeline }
    enum TimelineKeys: String, CodingKey { case events, limited, prevBatch = "prev_batch" }

    public init(nextBatch: String?, joined: [String: Timeline] = [:], invites: [String] = []) {
        self.nextBatch = nextBatch
        self.joined = joined
        self.invites = invites
    }

    /// Decodes a `/sync` body; throws only when it is not JSON or not an object.
    public static func decode(_ data: Data) throws -> MatrixSync {
        try MatrixJSON.decode(MatrixSync.self, from: data)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nextBatch = c.string(.nextBatch)
        guard let rooms = try? c.nestedContainer(keyedBy: RoomsKeys.self, forKey: .rooms) else { return }
        if let invite = try? rooms.nestedContainer(keyedBy: MatrixJSON.Key.self, forKey: .invite) {
            invites = invite.allKeys.map(\.stringValue).sorted()
        }
        guard let join = try? rooms.nestedContainer(keyedBy: MatrixJSON.Key.self, forKey: .join) else { return }
        for key in join.allKeys {
            guard let room = try? join.nestedContainer(keyedBy: RoomKeys.self, forKey: key) else { continue }
            var timeline = Timeline()
            if let t = try? room.nestedContainer(keyedBy: TimelineKeys.self, forKey: .timeline) {
                let events = t.lenientArray(MatrixEvent.self, forKey: .events)
                timeline.events = events.elements
                timeline.malformed = events.dropped
                timeline.limited = t.lenient(Bool.self, forKey: .limited) ?? false
                timeline.prevBatch = t.string(.prevBatch)
            }
            joined[key.stringValue] = timeline
        }
    }
}
