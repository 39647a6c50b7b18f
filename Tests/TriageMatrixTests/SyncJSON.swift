import Foundation
@testable import TriageMatrix

/// Test JSON written as dictionaries, decoded the way the client decodes a homeserver's answer
/// (bytes → ``MatrixSync`` / ``MatrixEvent``), so the reader is always tested through the decoder.
enum SyncJSON {
    static func data(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object)
    }

    static func sync(_ object: [String: Any]) throws -> MatrixSync {
        try MatrixSync.decode(data(object))
    }

    static func sync(_ text: String) throws -> MatrixSync {
        try MatrixSync.decode(Data(text.utf8))
    }

    static func events(_ objects: [[String: Any]]) throws -> [MatrixEvent] {
        try objects.map { try MatrixJSON.decode(MatrixEvent.self, from: data($0)) }
    }

    static func backfill(_ rooms: [String: [[String: Any]]]) throws -> [String: [MatrixEvent]] {
        try rooms.mapValues { try events($0) }
    }
}
