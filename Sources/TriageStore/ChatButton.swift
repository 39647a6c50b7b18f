import Foundation
import GRDB
import TriageCore

/// A button the bot put under one of its messages ([Ack], [Escalate now]): what a tap runs —
/// a declared command and its bound arguments — kept here so the button itself carries only
/// this row's id (`b:ID`). A tap runs the command as the person who tapped, with their role.
public struct ChatButton: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "chatButton"

    public var id: String
    public var platform: String
    public var room: String
    /// The declared command's name (`ack`).
    public var command: String
    /// The bound arguments as JSON.
    public var arguments: String
    public var label: String
    public var createdAt: Date
    public var expiresAt: Date?
    /// Who tapped it first, and when; a button is used once.
    public var usedBy: String?
    public var usedAt: Date?
    /// Platform user ids (JSON list) who may tap it whatever their role (the people paged, on
    /// a page's [Ack]); nil for nobody beyond the declaration's role.
    public var allowedIDs: String?

    /// The button's data on the platform (≤ 64 bytes).
    public var data: String { Self.prefix + id }

    /// What every command button's data starts with.
    public static let prefix = "b:"

    /// Whether `personID` may tap it without the declaration's role.
    public func allows(_ personID: String) -> Bool {
        guard let allowedIDs, let ids = try? JSONDecoder().decode([String].self, from: Data(allowedIDs.utf8)) else { return false }
        return ids.contains(personID)
    }

    /// The bound arguments to run with.
    public var boundArguments: BoundArguments {
        (try? JSONDecoder().decode(BoundArguments.self, from: Data(arguments.utf8))) ?? BoundArguments()
    }
}

extension StoreTransaction {
    /// Stores a button that runs `command` with `arguments` in `room`, and returns it for a reply.
    public func storeButton(_ label: String, emoji: String? = nil, command: String, arguments: BoundArguments = BoundArguments(),
                            platform: String, room: String, at now: Date, expiresAt: Date? = nil,
                            allowing people: [String] = []) throws -> ReplyButton {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        let id = String((0..<12).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
        let json = String(decoding: try JSONEncoder().encode(arguments), as: UTF8.self)
        let allowed = people.isEmpty ? nil : String(decoding: try JSONEncoder().encode(people), as: UTF8.self)
        let button = ChatButton(id: id, platform: platform, room: room, command: command, arguments: json, label: label,
                                createdAt: now, expiresAt: expiresAt, allowedIDs: allowed)
        try button.insert(db)
        return ReplyButton(label, data: button.data, emoji: emoji)
    }

    /// The button with this data (`b:ID`), if it is one of ours.
    public func chatButton(data: String) throws -> ChatButton? {
        guard data.hasPrefix(ChatButton.prefix) else { return nil }
        let id = String(data.dropFirst(ChatButton.prefix.count))
        guard (1...32).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        return try ChatButton.fetchOne(db, key: id)
    }

    /// Lets `people` (platform user ids) tap the button `data` whatever their role, besides
    /// those allowed already (the people a later escalation level paged).
    public func allow(_ people: [String], onButton data: String) throws {
        guard !people.isEmpty, var button = try chatButton(data: data) else { return }
        var ids = (try? JSONDecoder().decode([String].self, from: Data((button.allowedIDs ?? "[]").utf8))) ?? []
        for p in people where !ids.contains(p) { ids.append(p) }
        button.allowedIDs = String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
        try button.update(db)
    }

    /// Marks the button used by `person`; false when someone used it first.
    public func useButton(id: String, by person: String, at now: Date) throws -> Bool {
        try db.execute(sql: "UPDATE chatButton SET usedBy = ?, usedAt = ? WHERE id = ? AND usedAt IS NULL", arguments: [person, now, id])
        return db.changesCount == 1
    }
}
