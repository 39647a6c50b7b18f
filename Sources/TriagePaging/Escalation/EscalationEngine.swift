import Foundation
import Logging
import TriageCore
import TriageStore

/// Runs paging from the store: fires escalation timers that are due and makes the provider
/// calls that are due, retrying them per the provider's contract with backoff. Time comes
/// from the injected `now`, so tests walk an escalation with a test clock; the
/// ``EscalationService`` calls ``runDue()`` in a loop in production.
public final class EscalationEngine: Sendable {
    public let pager: Pager
    let store: BotStore
    let http: any HTTPTransport
    let logger: Logger
    /// Whose time escalation timers and retries follow.
    public let clock: any TriageClock

    public init(pager: Pager, store: BotStore, http: any HTTPTransport, logger: Logger, clock: any TriageClock = SystemClock()) {
        self.pager = pager
        self.store = store
        self.http = http
        self.logger = logger
        self.clock = clock
    }

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        public var pagesAdvanced = 0
        public var delivered = 0
        public var retrying = 0
        public var failed = 0
        /// Pages found acknowledged in a provider (PagerDuty, Opsgenie) and stopped.
        public var acknowledgedInProvider = 0
    }

    /// When each page was last looked up at each provider.
    let lastPolled = PollTimes()

    /// Deliveries a stopped process left mid-call are sent again (providers de-duplicate by key).
    public func recover() async throws {
        try await store.write { tx in try tx.requeueInterruptedDeliveries() }
    }

    /// Fires due escalation timers, then makes the provider calls that are due.
    @discardableResult
    public func runDue() async throws -> Pass {
        let at = clock.now
        let pager = self.pager
        var pass = Pass()
        let reports = try await store.write { tx in try pager.fireDuePages(at: at, in: tx) }
        pass.pagesAdvanced = reports.filter { !$0.notified.isEmpty || $0.exhausted }.count
        for r in reports {
            for n in r.notified {
                logger.info("escalated", metadata: ["page.id": "\(r.page.id ?? 0)", "page.level": "\(n.level + 1)", "page.round": "\(n.round + 1)"])
            }
        }
        // Acknowledgements made in a provider stop their pages before anything more is sent.
        pass.acknowledgedInProvider = await pollAcknowledgements(at: at)
        // Calls for one alert go in order (each trigger, then the acknowledge), so a call may
        // become due when the one before it finishes: a few rounds per pass.
        for _ in 0..<8 {
            let due = try await store.read { tx in try tx.dueDeliveries(at: at) }
            if due.isEmpty { break }
            // One provider's calls in order; providers side by side, so a slow one delays no other.
            let byProvider = Dictionary(grouping: due, by: \.provider)
            let verdicts = await withTaskGroup(of: [DeliveryVerdict?].self) { group in
                for (_, list) in byProvider {
                    group.addTask {
                        var out: [DeliveryVerdict?] = []
                        for d in list { out.append(await self.deliver(d)) }
                        return out
                    }
                }
                var all: [DeliveryVerdict?] = []
                for await part in group { all.append(contentsOf: part) }
                return all
            }
            for v in verdicts {
                switch v {
                case .delivered: pass.delivered += 1
                case .retry: pass.retrying += 1
                case .reject: pass.failed += 1
                case nil: break
                }
            }
        }
        return pass
    }

    /// Asks the providers that can tell (PagerDuty's REST API, Opsgenie's Alert API) whether
    /// the alerts of pages still escalating were acknowledged there, each page and provider at
    /// most every `paging.poll_acknowledgements` seconds; an acknowledgement found stops the
    /// page as `/ack` would, acknowledging it at the other providers. Returns the pages stopped.
    func pollAcknowledgements(at date: Date) async -> Int {
        let interval = Double(pager.config.pollAcknowledgements)
        let pollers = pager.config.providers.compactMapValues { $0 as? any AcknowledgementPolling }.filter { $0.value.pollsAcknowledgements }
        guard interval > 0, !pollers.isEmpty else { return 0 }
        let names = pollers.keys.sorted()
        let candidates: [(PageRecord, [PageDelivery])]
        do {
            candidates = try await store.read { tx in
                try tx.pagesAwaitingAcknowledgement(providers: names).map { ($0, try tx.deliveries(page: $0.id ?? 0)) }
            }
        } catch {
            logger.error("could not read the pages to poll", metadata: ["error": "\(error)"])
            return 0
        }
        var stopped = 0
        for (page, deliveries) in candidates {
            guard let id = page.id else { continue }
            for name in names where deliveries.contains(where: { $0.provider == name && $0.action == PageAction.trigger.rawValue && $0.status == .sent }) {
                guard let poller = pollers[name], await lastPolled.claim(page: id, provider: name, at: date, every: interval) else { continue }
                let found: ProviderAcknowledgement?
                do {
                    let response = try await http.send(try poller.statusRequest(providerKey: Pager.providerKey(page)))
                    found = try poller.acknowledgement(from: response, since: page.createdAt)
                } catch {
                    logger.warning("could not poll a provider for an acknowledgement",
                                   metadata: ["page.id": "\(id)", "page.provider": "\(name)", "error": "\(error)"])
                    continue
                }
                guard let ack = found else { continue }
                if await recordProviderAcknowledgement(ack, page: id, provider: name, at: date) {
                    stopped += 1
                    break
                }
            }
        }
        return stopped
    }

    /// Stops page `id` for an acknowledgement seen in `provider`; false when it was no longer escalating.
    func recordProviderAcknowledgement(_ ack: ProviderAcknowledgement, page id: Int64, provider: String, at date: Date) async -> Bool {
        let pager = self.pager
        let person = pager.config.people.values.sorted { $0.name < $1.name }.first { p in
            (ack.userID != nil && (p.pagerdutyID == ack.userID || p.opsgenieID == ack.userID))
                || (ack.name.map { n in p.email?.lowercased() == n.lowercased() || p.matches(n) } ?? false)
        }
        let who = person?.handle ?? ack.name ?? "someone"
        do {
            return try await store.write { tx -> Bool in
                guard let page = try tx.page(id: id), ["pending", "waiting", "exhausted"].contains(page.phase) else { return false }
                // The provider's own time of the acknowledgement, within the page's life.
                let at = min(date, max(page.createdAt, ack.at ?? date))
                let report = try pager.acknowledge(page, by: who, at: at, in: tx, inProvider: provider)
                if let incidentID = page.incidentID, var incident = try tx.incident(id: incidentID), incident.acknowledgedAt == nil {
                    incident.acknowledgedAt = at
                    try tx.update(incident)
                }
                var text = "Page #\(id) was acknowledged in \(provider) by \(who) at \(UTCTime.format(at)); escalation stopped"
                if !report.followUps.isEmpty { text += "; acknowledge sent to " + report.followUps.joined(separator: ", ") }
                try pager.mention(Reply(blocks: [.note(text + ".", .ok)], summary: text), platform: page.platform, room: page.room,
                                  key: "page:\(id):acknowledged-in:\(provider)", at: date, in: tx)
                return true
            }
        } catch {
            logger.error("could not record an acknowledgement made in a provider", metadata: ["page.id": "\(id)", "error": "\(error)"])
            return false
        }
    }

    /// When something is next due (a timer or a delivery retry).
    public func nextDue() async throws -> Date? {
        try await store.read { tx in [try tx.nextPageDue(), try tx.nextDeliveryDue()].compactMap { $0 }.min() }
    }

    /// When the timer must look again: the next due time, or the next acknowledgement poll
    /// while pages escalate at providers that can be polled; nil when nothing is waiting.
    public func nextWake() async throws -> Date? {
        var times = [try await nextDue()].compactMap { $0 }
        let interval = Double(pager.config.pollAcknowledgements)
        let names = pager.config.providers.compactMapValues { $0 as? any AcknowledgementPolling }
            .filter { $0.value.pollsAcknowledgements }.keys.sorted()
        if interval > 0, !names.isEmpty,
           try await !store.read({ tx in try tx.pagesAwaitingAcknowledgement(providers: names, limit: 1) }).isEmpty {
            times.append(clock.now.addingTimeInterval(interval))
        }
        return times.min()
    }

    /// Makes one provider call and records the outcome (and the timeline line). Returns nil
    /// when the delivery was no longer pending.
    func deliver(_ pending: PageDelivery) async -> DeliveryVerdict? {
        guard let id = pending.id else { return nil }
        let pager = self.pager
        let claimed: (PageDelivery, PageRecord)?
        do {
            claimed = try await store.write { tx -> (PageDelivery, PageRecord)? in
                guard var d = try tx.delivery(id: id), d.status == .pending, let page = try tx.page(id: d.pageID) else { return nil }
                d.status = .sending
                d.attempts += 1
                try tx.update(d)
                return (d, page)
            }
        } catch {
            logger.error("could not claim a page delivery", metadata: ["error": "\(error)"])
            return nil
        }
        guard let (delivery, page) = claimed else { return nil }
        guard let provider = pager.config.providers[delivery.provider] else {
            await record(delivery, .reject(reason: "provider \(delivery.provider) is no longer configured"))
            return .reject(reason: "not configured")
        }
        let recipients = (try? JSONDecoder().decode([PagingPerson].self, from: Data(delivery.recipients.utf8))) ?? []
        let actor = delivery.action == PageAction.acknowledge.rawValue ? page.acknowledgedBy : nil
        let context = PageDeliveryContext(page: page, delivery: delivery, recipients: recipients, actor: actor, at: clock.now)
        let verdict: DeliveryVerdict
        do {
            let request = try provider.request(for: context)
            let response = try await http.send(request)
            verdict = provider.verdict(for: response)
        } catch let e as PresentableError {
            verdict = .retry(after: nil, reason: e.description)
        } catch {
            // The reason goes into the timeline, shown in chat: no raw error text there.
            logger.error("page delivery could not be made", metadata: ["page.provider": "\(delivery.provider)", "error": "\(String(reflecting: error))"])
            verdict = .retry(after: nil, reason: "could not build the request (\(type(of: error)))")
        }
        await record(delivery, verdict)
        return verdict
    }

    func record(_ delivery: PageDelivery, _ verdict: DeliveryVerdict) async {
        let at = clock.now
        let retry = pager.config.retry
        var log = logger
        log[metadataKey: "page.id"] = "\(delivery.pageID)"
        log[metadataKey: "page.provider"] = "\(delivery.provider)"
        log[metadataKey: "page.action"] = "\(delivery.action)"
        do {
            try await store.write { tx in
                guard var d = try tx.delivery(id: delivery.id!), let page = try tx.page(id: d.pageID) else { return }
                let what = "\(d.provider): \(d.action) for page #\(d.pageID) level \(d.level + 1)" + (d.round > 0 ? " round \(d.round + 1)" : "")
                var text: String
                switch verdict {
                case .delivered:
                    d.status = .sent
                    d.finishedAt = at
                    d.lastError = nil
                    text = "\(what) delivered" + (d.attempts > 1 ? " after \(d.attempts) attempts" : "") + "."
                case .reject(let reason):
                    d.status = .failed
                    d.finishedAt = at
                    d.lastError = reason
                    text = "\(what) rejected (\(reason)); not retried."
                    try Self.cancelFollowUps(of: d, at: at, in: tx)
                case .retry(let after, let reason):
                    d.lastError = reason
                    let phase = EscalationStateMachine.Phase(rawValue: page.phase) ?? .waiting
                    if d.action == PageAction.trigger.rawValue && !phase.isActive && phase != .exhausted {
                        d.status = .cancelled
                        d.finishedAt = at
                        text = "\(what) failed (\(reason)), attempt \(d.attempts); not retried: the page is \(page.phase)."
                    } else if at.timeIntervalSince(d.createdAt) >= Double(retry.giveUpAfter) {
                        d.status = .failed
                        d.finishedAt = at
                        text = "\(what) given up after \(d.attempts) attempts over \(DurationFormatter.format(seconds: at.timeIntervalSince(d.createdAt))) (last: \(reason))."
                        try Self.cancelFollowUps(of: d, at: at, in: tx)
                    } else {
                        let delay = max(1, after.map { min($0, retry.cap) } ?? retry.delay(afterAttempts: d.attempts))
                        d.status = .pending
                        d.nextAttemptAt = at.addingTimeInterval(Double(delay))
                        text = "\(what) failed (\(reason)), attempt \(d.attempts); retrying at \(UTCTime.format(d.nextAttemptAt))."
                    }
                }
                try tx.update(d)
                if let incident = page.incidentID {
                    try tx.append(TimelineEvent(incidentID: incident, at: at, actor: Pager.actor, kind: .page, text: text))
                }
            }
            switch verdict {
            case .delivered: log.info("page delivery delivered")
            case .retry(_, let reason): log.warning("page delivery failed; will retry", metadata: ["error": "\(reason)"])
            case .reject(let reason): log.error("page delivery rejected", metadata: ["error": "\(reason)"])
            }
        } catch {
            log.error("could not record a page delivery", metadata: ["error": "\(error)"])
        }
    }

    /// A trigger that will never arrive needs no acknowledge or resolve, unless another
    /// trigger of the page reached the same provider's alert.
    static func cancelFollowUps(of d: PageDelivery, at date: Date, in tx: StoreTransaction) throws {
        guard d.action == PageAction.trigger.rawValue else { return }
        let all = try tx.deliveries(page: d.pageID).filter { $0.provider == d.provider }
        let reached = all.contains { $0.action == PageAction.trigger.rawValue && $0.id != d.id && [.sent, .sending, .pending].contains($0.status) }
        guard !reached else { return }
        for var other in all where other.action != PageAction.trigger.rawValue && other.status == .pending {
            other.status = .cancelled
            other.finishedAt = date
            other.lastError = "cancelled: its trigger was not delivered"
            try tx.update(other)
        }
    }
}

/// The last time each page was looked up at each provider (polling is rate-limited per pair).
actor PollTimes {
    private var last: [String: Date] = [:]

    /// True (and noted) when `page` at `provider` was not looked up in the last `every` seconds.
    func claim(page: Int64, provider: String, at date: Date, every: Double) -> Bool {
        let key = "\(page)/\(provider)"
        if let previous = last[key], date.timeIntervalSince(previous) < every, date >= previous { return false }
        last[key] = date
        return true
    }
}
