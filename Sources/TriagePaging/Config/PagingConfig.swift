import Foundation
import TriageCore

/// The `paging` section of Triage's config: people, schedules, escalation policies,
/// providers, and which severities page automatically.
public struct PagingConfig: Sendable {
    /// How provider calls are retried.
    public struct RetryPolicy: Sendable, Equatable {
        /// Seconds before the first retry; doubles each attempt up to `cap`.
        public var base: Int
        public var cap: Int
        /// A delivery still failing this many seconds after it was queued is given up.
        public var giveUpAfter: Int
        /// Seconds for one HTTP call.
        public var timeout: Double

        public init(base: Int = 10, cap: Int = 300, giveUpAfter: Int = 3600, timeout: Double = 10) {
            self.base = base
            self.cap = cap
            self.giveUpAfter = giveUpAfter
            self.timeout = timeout
        }

        /// The delay before attempt `attempts + 1`, after `attempts` failures.
        public func delay(afterAttempts attempts: Int) -> Int {
            let exp = min(max(attempts - 1, 0), 20)
            return min(cap, base << exp)
        }
    }

    public var people: [String: PagingPerson]
    public var schedules: [String: OnCallSchedule]
    public var policies: [String: EscalationPolicy]
    /// HTTP providers by name; `chat` is built in.
    public var providers: [String: any PagingProvider]
    /// Which policy pages automatically when an incident of a severity is opened.
    public var autoPage: [Severity: String]
    /// Providers used by levels that do not name their own.
    public var defaultNotify: [String]
    /// `/page @person`: how long to wait for an acknowledgement, how often to repeat.
    public var personWait: Int
    public var personRepeats: Int
    public var retry: RetryPolicy
    /// Seconds between two looks at a provider's REST API for an acknowledgement made there
    /// (PagerDuty with `api_token_env`, Opsgenie); 0 turns polling off.
    public var pollAcknowledgements: Int = 30

    public init(people: [String: PagingPerson] = [:], schedules: [String: OnCallSchedule] = [:],
                policies: [String: EscalationPolicy] = [:], providers: [String: any PagingProvider] = [:],
                autoPage: [Severity: String] = [:], defaultNotify: [String] = ["chat"], personWait: Int = 300,
                personRepeats: Int = 2, retry: RetryPolicy = RetryPolicy()) {
        self.people = people
        self.schedules = schedules
        self.policies = policies
        self.providers = providers
        self.autoPage = autoPage
        self.defaultNotify = defaultNotify
        self.personWait = personWait
        self.personRepeats = personRepeats
        self.retry = retry
    }

    /// The person `text` names (`alice`, `@alice`, a handle or an email).
    public func person(named text: String) -> PagingPerson? {
        if let p = people[text] { return p }
        return people.values.sorted { $0.name < $1.name }.first { $0.matches(text) }
    }

    /// The one-level policy used by `/page @person`.
    public func personPolicy(_ person: PagingPerson) -> EscalationPolicy {
        EscalationPolicy(name: person.handle,
                         levels: [EscalationLevel(targets: [.person(person.name)], waitSeconds: personWait, notify: defaultNotify)],
                         repeats: personRepeats)
    }
}
