/// An error whose `description` is safe to post in a chat room.
///
/// Only errors conforming to this protocol are shown to people; anything else becomes
/// "internal error (ref …)" in the reply and a full line in the log.
public protocol PresentableError: Error, CustomStringConvertible, CustomDebugStringConvertible {}

extension PresentableError {
    public var debugDescription: String { description }
}

/// An error that carries the server's own detail line (PostgreSQL's DETAIL), safe to show.
public protocol ServerDetailed: Error {
    var serverDetail: String? { get }
}
