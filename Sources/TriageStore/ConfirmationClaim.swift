import Foundation

/// What `/confirm TOKEN` found, decided in one transaction so a token is used at most once.
public enum ConfirmationClaim: Sendable, Equatable {
    /// No such token.
    case unknown
    /// The token belongs to another room.
    case otherRoom
    /// The token was already used, cancelled, or superseded.
    case used(PendingAction)
    /// This person already confirmed this action; another person must give the next confirmation.
    case sameConfirmer(PendingAction)
    /// The token expired before this confirmation (now marked expired).
    case expired(PendingAction)
    /// One more confirmation is needed: the old token is spent, here is the new one.
    case needsAnother(PendingAction)
    /// Confirmed: the action is marked running and must be run now, exactly once.
    case run(PendingAction)
}
