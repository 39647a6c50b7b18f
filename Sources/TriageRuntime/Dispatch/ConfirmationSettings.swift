import Foundation

/// How confirmations of database actions work.
public struct ConfirmationSettings: Sendable {
    /// How long a token stays valid.
    public var lifetime: TimeInterval
    /// Platform user ids (and `console` users) who may give every confirmation of a
    /// two-person action alone: the config's `roles.break_glass`, empty unless written down.
    public var breakGlass: Set<String>

    public init(lifetime: TimeInterval = 300, breakGlass: Set<String> = []) {
        self.lifetime = lifetime
        self.breakGlass = breakGlass
    }
}
