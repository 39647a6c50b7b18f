import GRDB
import TriageCore

// The columns the store's queries name, once per record type: a misspelt column is a compile
// error, not an empty result.

extension Incident {
    public enum Columns: String, ColumnExpression {
        case id, status
    }
}

extension TimelineEvent {
    public enum Columns: String, ColumnExpression {
        case incidentID, kind
    }
}

extension OutboxMessage {
    public enum Columns: String, ColumnExpression {
        case id, platform, sentAt, key
    }
}

extension OutboxPart {
    public enum Columns: String, ColumnExpression {
        case outboxID, part
    }
}

extension OutboxHold {
    public enum Columns: String, ColumnExpression {
        case platform
    }
}

extension PendingAction {
    public enum Columns: String, ColumnExpression {
        case platform, room, status, expiresAt, createdAt
    }
}

extension PageRecord {
    public enum Columns: String, ColumnExpression {
        case id, incidentID, auto, resolvedAt, platform, room, phase, nextAt
    }
}

extension PageDelivery {
    public enum Columns: String, ColumnExpression {
        case id, pageID
    }
}

extension OnCallOverrideRecord {
    public enum Columns: String, ColumnExpression {
        case id, endsAt
    }
}
