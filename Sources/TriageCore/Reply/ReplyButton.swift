/// A button under a reply. It carries only an opaque id of something the bot stored (a pending
/// action's token, a stored button row), never a command line: what a tap does is decided by
/// the bot from its store, and who may do it by the tapping person's role.
public struct ReplyButton: Codable, Sendable, Equatable {
    /// What the button says ("Confirm").
    public var label: String
    /// Opaque data sent back on a tap: at most ``maxDataBytes`` bytes of UTF-8.
    public var data: String
    /// What the button stands for, for platforms that show buttons as reactions (Matrix: ✅).
    public var emoji: String?

    /// Telegram's limit on `callback_data`.
    public static let maxDataBytes = 64

    public init(_ label: String, data: String, emoji: String? = nil) {
        self.label = label
        self.data = data
        self.emoji = emoji
    }
}
