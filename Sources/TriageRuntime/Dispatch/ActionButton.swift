import Foundation
import TriageChat
import TriageCore
import TriageStore

/// The buttons of an action preview: [Confirm] [Cancel]. Each carries only the pending
/// action's token (`c:7229e7x4`, `x:7229e7x4`), never the command: what runs is what the
/// store holds for that token, exactly as `/confirm TOKEN` would run it.
struct ActionButton: Equatable {
    enum Verb: String {
        case confirm = "c"
        case cancel = "x"
    }

    var verb: Verb
    var token: String

    /// The declaration a tap stands for (its role is the tap's authorization).
    var command: String { verb == .confirm ? "confirm" : "cancel" }

    var data: String { "\(verb.rawValue):\(token)" }

    init(_ verb: Verb, token: String) {
        self.verb = verb
        self.token = token
    }

    /// Reads a button's data; nil for anything that is not one of ours.
    init?(data: String) {
        let parts = data.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let verb = Verb(rawValue: String(parts[0])) else { return nil }
        let token = String(parts[1])
        guard (1...32).contains(token.count), token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        self.verb = verb
        self.token = token.lowercased()
    }

    /// [Confirm] [Cancel] for `token`.
    static func keyboard(token: String, confirmLabel: String = "Confirm") -> [[ReplyButton]] {
        [[ReplyButton(confirmLabel, data: ActionButton(.confirm, token: token).data, emoji: "✅"),
          ReplyButton("Cancel", data: ActionButton(.cancel, token: token).data, emoji: "❌")]]
    }

    /// What the preview message shows once a decision was made: who decided, when, and the
    /// result, without buttons. Nil while the action is still waiting for one.
    static func decision(_ a: PendingAction, at now: Date) -> Reply? {
        let when = UTCTime.format(a.finishedAt ?? now)
        var facts = [KeyValue("requested by", a.requestedBy)]
        switch a.status {
        case .running:
            facts += [KeyValue("confirmed by", a.confirmedBy ?? "?"), KeyValue("at", when)]
            return Reply(title: "Running (confirmed): \(a.line)",
                         blocks: [.keyValues(facts), .text("The result follows in a reply.")],
                         summary: "running \(a.line), confirmed by \(a.confirmedBy ?? "?")")
        case .done, .failed:
            facts += [KeyValue("confirmed by", a.confirmedBy ?? "?"), KeyValue("finished", when)]
            if let result = a.result { facts.append(KeyValue("result", result)) }
            let done = a.status == .done
            return Reply(title: (done ? "Done: " : "Failed: ") + a.line, blocks: [.keyValues(facts)],
                         mark: done ? .ok : .critical, summary: a.result)
        case .cancelled:
            facts += [KeyValue("cancelled", (a.result.map { $0 + ", " } ?? "") + when)]
            return Reply(title: "Cancelled: \(a.line)", blocks: [.keyValues(facts), .text("Nothing was run.")],
                         mark: .ok, summary: "cancelled \(a.line)")
        case .expired:
            return Reply(title: "Expired: \(a.line)",
                         blocks: [.keyValues(facts + [KeyValue("expired", UTCTime.format(a.expiresAt))]),
                                  .text("Nothing was run. Run \(a.line) again for a fresh preview.")],
                         summary: "expired \(a.line)")
        case .superseded:
            facts += [KeyValue("confirmed by", a.confirmedBy ?? "?"), KeyValue("at", when)]
            return Reply(title: "Confirmation \(a.confirmationsGiven) of \(a.confirmationsNeeded) given: \(a.line)",
                         blocks: [.keyValues(facts), .note("Nothing has run yet: the next confirmation, by another person, is asked for in the reply.", .warning)],
                         mark: .warning, summary: "confirmation \(a.confirmationsGiven) of \(a.line)")
        default:
            return nil
        }
    }

    /// The answer to a tap on [Confirm], from what the confirmation found.
    static func answer(for claim: ConfirmationClaim, runningHere: Bool) -> TapAnswer {
        switch claim {
        case .unknown:
            return TapAnswer("Expired: this button's action is not known any more.")
        case .otherRoom:
            return TapAnswer("This button belongs to another room.", alert: true)
        case .used(let a):
            switch a.status {
            case .running where runningHere:
                return TapAnswer("Already running: confirmed by \(a.confirmedBy ?? "?").")
            case .running:
                return TapAnswer("It was running when Triage stopped; nothing is run again. See the reply.")
            case .cancelled:
                return TapAnswer("Already cancelled" + (a.result.map { " (\($0))" } ?? "") + ".")
            case .superseded:
                return TapAnswer("Already confirmed by \(a.confirmedBy ?? "?"); the next confirmation is on a newer message.")
            case .expired:
                return TapAnswer("Expired at \(UTCTime.format(a.expiresAt)); nothing was run.")
            default:
                return TapAnswer("Already done by \(a.confirmedBy ?? "?") (\(a.status)).")
            }
        case .expired(let a):
            return TapAnswer("Expired at \(UTCTime.format(a.expiresAt)); nothing was run.")
        case .sameConfirmer:
            return TapAnswer("You already confirmed this. Another person must give the next confirmation.", alert: true)
        case .needsAnother(let a):
            return TapAnswer("Confirmation \(a.confirmationsGiven) of \(a.confirmationsNeeded) recorded; another person must confirm too.")
        case .run(let a):
            return TapAnswer("Confirmed: running \(a.line.prefix(150)).")
        }
    }
}
