import Foundation
import GRDB

extension StoreTransaction {
    /// Stores a previewed action.
    public func insert(_ action: PendingAction) throws {
        try action.insert(db)
    }

    public func pendingAction(token: String) throws -> PendingAction? {
        try PendingAction.fetchOne(db, key: token)
    }

    /// The newest still-pending, unexpired action in a room.
    public func latestPendingAction(platform: String, room: String, at now: Date) throws -> PendingAction? {
        try PendingAction.filter(PendingAction.Columns.platform == platform && PendingAction.Columns.room == room
                                 && PendingAction.Columns.status == PendingAction.Status.pending.rawValue && PendingAction.Columns.expiresAt > now)
            .order(PendingAction.Columns.createdAt.desc).fetchOne(db)
    }

    /// Applies one confirmation to `token`.
    /// - Parameter newToken: the token issued when another confirmation is still needed.
    /// - Parameters:
    ///   - person: the confirmer's readable name; `personID` their platform id.
    ///   - samePersonMayRepeat: whether this person may give another confirmation of an
    ///     action they already confirmed (break-glass, written down in config).
    public func claim(token: String, platform: String, room: String, by person: String, personID: String = "",
                      samePersonMayRepeat: Bool = false, at now: Date,
                      newToken: String, expiresAt: Date) throws -> ConfirmationClaim {
        guard var action = try pendingAction(token: token) else { return .unknown }
        guard action.platform == platform, action.room == room else { return .otherRoom }
        guard action.status == .pending else { return .used(action) }
        guard now < action.expiresAt else {
            action.status = .expired
            try action.update(db)
            return .expired(action)
        }
        var confirmers = action.confirmers
        if !samePersonMayRepeat, confirmers.contains(personID) {
            return .sameConfirmer(action)
        }
        confirmers.append(personID)
        action.confirmerIDs = String(decoding: (try? JSONEncoder().encode(confirmers)) ?? Data("[]".utf8), as: UTF8.self)
        action.confirmationsGiven += 1
        action.confirmedBy = [action.confirmedBy, person].compactMap { $0 }.joined(separator: ", ")
        if action.confirmationsGiven < action.confirmationsNeeded {
            action.status = .superseded
            action.finishedAt = now
            action.result = "confirmed by \(person); next confirmation: \(newToken)"
            try action.update(db)
            var next = action
            next.token = newToken
            next.status = .pending
            next.createdAt = now
            next.expiresAt = expiresAt
            next.finishedAt = nil
            next.result = nil
            try next.insert(db)
            return .needsAnother(next)
        }
        action.status = .running
        try action.update(db)
        return .run(action)
    }

    /// Records which message of the bot shows the action (its outbox key), to edit it later.
    public func setPreviewKey(_ key: String, token: String) throws {
        try db.execute(sql: "UPDATE pendingAction SET previewKey = ? WHERE token = ?", arguments: [key, token])
    }

    /// Records how a confirmed action ended.
    public func finish(token: String, status: PendingAction.Status, result: String, at now: Date) throws {
        try db.execute(sql: "UPDATE pendingAction SET status = ?, result = ?, finishedAt = ? WHERE token = ?",
                       arguments: [status.rawValue, result, now, token])
    }

    /// Cancels a pending action; false when it was not pending.
    /// - Parameter person: who cancelled, kept as the action's result ("cancelled by @bob").
    public func cancel(token: String, at now: Date, by person: String? = nil) throws -> Bool {
        try db.execute(sql: "UPDATE pendingAction SET status = 'cancelled', finishedAt = ?, result = ? WHERE token = ? AND status = 'pending'",
                       arguments: [now, person.map { "cancelled by \($0)" }, token])
        return db.changesCount == 1
    }
}
