import GRDB

/// Why the store could not commit, in words for a chat room: disk full, read-only, I/O error.
public struct StoreFault: Sendable, CustomStringConvertible {
    public let description: String

    /// nil when `error` is not a store fault (a refusal, a bug).
    public init?(_ error: any Error) {
        guard let e = error as? DatabaseError else { return nil }
        switch e.resultCode.primaryResultCode {
        case .SQLITE_FULL: description = "disk full"
        case .SQLITE_READONLY: description = "store is read-only"
        case .SQLITE_IOERR: description = "I/O error"
        case .SQLITE_CANTOPEN: description = "store cannot be opened"
        case .SQLITE_BUSY, .SQLITE_LOCKED: description = "store is locked"
        default: return nil
        }
    }
}
