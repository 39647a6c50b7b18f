/// The roles people take in an incident (`/role commander|scribe|comms @person`).
public enum IncidentRole: String, Codable, Sendable, CaseIterable {
    /// Runs the response and decides; the opener until someone else is named.
    case commander
    /// Keeps the timeline complete (notes, follow-ups).
    case scribe
    /// Talks to people outside the room (status page, stakeholders).
    case comms
}
