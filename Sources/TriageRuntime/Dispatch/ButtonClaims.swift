import Synchronization

/// The command buttons whose tap is being handled in this process, and who tapped each.
///
/// A button is marked used in the commit that records its command's effect, after the command
/// ran; two taps at once would both run it (two silences in Alertmanager). The first tap holds
/// the button until its commit, so a second one is told who is on it and runs nothing.
final class ButtonClaims: Sendable {
    private let held = Mutex<[String: String]>([:])

    /// Holds button `id` for `person`; nil when that worked, else who holds it.
    func claim(_ id: String, by person: String) -> String? {
        held.withLock { held in
            if let holder = held[id] { return holder }
            held[id] = person
            return nil
        }
    }

    func release(_ id: String) {
        _ = held.withLock { held in held.removeValue(forKey: id) }
    }
}
