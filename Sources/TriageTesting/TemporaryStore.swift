import Foundation
import TriageStore

/// A store on a fresh file in a temporary folder, for tests.
public enum TemporaryStore {
    /// A new store file under `directory` (the system's temporary folder by default).
    public static func make(in directory: URL = FileManager.default.temporaryDirectory) throws -> BotStore {
        let url = directory.appendingPathComponent("triage-test-\(UUID().uuidString).sqlite")
        return try BotStore(path: url.path)
    }
}
