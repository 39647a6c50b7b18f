import TriageCore

/// `reply_markup` with an `inline_keyboard`: rows of buttons whose `callback_data` comes back
/// in a `callback_query` when tapped.
public struct InlineKeyboard: Encodable, Sendable, Equatable {
    public struct Button: Encodable, Sendable, Equatable {
        public var text: String
        public var callback_data: String
    }

    public var inline_keyboard: [[Button]]

    /// The keyboard for a reply's buttons; nil when it has none. Buttons whose data does not
    /// fit Telegram's 1–64 bytes are left out (their typed command still works).
    public init?(_ rows: [[ReplyButton]]?) {
        let kept = (rows ?? []).map { row in
            row.filter { !$0.data.isEmpty && $0.data.utf8.count <= ReplyButton.maxDataBytes }
                .map { Button(text: $0.label, callback_data: $0.data) }
        }.filter { !$0.isEmpty }
        guard !kept.isEmpty else { return nil }
        inline_keyboard = kept
    }
}
