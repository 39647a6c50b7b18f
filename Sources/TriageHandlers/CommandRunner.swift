import Foundation
import Synchronization
import TriageCore

/// What a feature that acts without a chat message (alerts) needs from the runtime: run a
/// diagnostic command as the bot, and tell incident observers (paging) about the incidents it
/// opens or resolves.
///
/// The dispatcher is built after the features, so this box is late-bound: the composition
/// root hands it to every feature in ``FeatureContext``, then fills it once the dispatcher
/// exists. Before that, ``diagnostic(_:)`` answers nil and ``incidentEvents`` tells nobody.
public final class CommandRunner: Sendable {
    /// Runs one command line as a viewer; only commands of kind `diagnostic` run.
    public typealias Run = @Sendable (String) async -> Reply?

    struct Bound: Sendable {
        var run: Run
        var events: IncidentEvents
    }

    private let bound = Mutex<Bound?>(nil)

    public init() {}

    /// Called once by the composition root, after it built the dispatcher.
    public func bind(run: @escaping Run, incidentEvents: IncidentEvents) {
        bound.withLock { $0 = Bound(run: run, events: incidentEvents) }
    }

    /// Runs `line` (`/pg bloat --db main`) as the bot with the viewer role, in a room of its
    /// own (nothing lands in a chat room's timeline). A line that is not a diagnostic gets a
    /// refusal, never run. Nil before the runtime is bound.
    public func diagnostic(_ line: String) async -> Reply? {
        guard let run = bound.withLock({ $0?.run }) else { return nil }
        return await run(line)
    }

    /// Where incidents opened or resolved outside a command are announced (in the caller's
    /// transaction).
    public var incidentEvents: IncidentEvents {
        bound.withLock { $0?.events } ?? IncidentEvents()
    }
}
