import Foundation

/// How the paging lines of a timeline relate: the line of a page's level (or its
/// acknowledgement, its resolution) and the provider delivery lines that belong to it, matched
/// by a key (`3/2/1`: page 3, level 2, round 1; `3/acknowledge`; `3/resolve`).
public enum PageLine {
    /// A provider delivery line (`pagerduty: trigger for page #3 level 2 delivered.`): its key
    /// and the outcome to fold into the page line (`pagerduty delivered`).
    public static func delivery(_ e: TimelineEvent) -> (key: String, note: String)? {
        guard e.kind == .page, e.actor == PostmortemBuilder.botActor else { return nil }
        let t = e.text
        guard let colon = t.firstIndex(of: ":"), t[t.index(after: colon)...].hasPrefix(" ") else { return nil }
        let provider = t[..<colon]
        guard !provider.isEmpty, !provider.contains(" ") else { return nil }
        let rest = t[t.index(colon, offsetBy: 2)...]
        let action: String
        if rest.hasPrefix("trigger for page #") { action = "trigger" }
        else if rest.hasPrefix("acknowledge for page #") { action = "acknowledge" }
        else if rest.hasPrefix("resolve for page #") { action = "resolve" }
        else { return nil }
        var scanner = rest.dropFirst(action.count + " for page #".count)
        guard let page = leadingInt(&scanner), scanner.hasPrefix(" level ") else { return nil }
        scanner = scanner.dropFirst(" level ".count)
        guard let level = leadingInt(&scanner) else { return nil }
        var round = 1
        if scanner.hasPrefix(" round ") {
            scanner = scanner.dropFirst(" round ".count)
            round = leadingInt(&scanner) ?? 1
        }
        var outcome = scanner.trimmingCharacters(in: .whitespaces)
        if outcome.hasSuffix(".") { outcome.removeLast() }
        let key = action == "trigger" ? "\(page)/\(level)/\(round)" : "\(page)/\(action)"
        return (key, "\(provider) \(outcome)")
    }

    /// The key of a page line (`Page #3 (policy db, level 1/2): paged …`, `Page #3 escalated to
    /// level 2/2, round 1/2: …`, `Page #3 acknowledged by …`, `Page #3 resolved …`), if it is one.
    public static func key(_ e: TimelineEvent) -> String? {
        guard e.kind == .page || e.kind == .escalation || e.kind == .acknowledged, e.text.hasPrefix("Page #") else { return nil }
        var s = e.text.dropFirst("Page #".count)
        guard let page = leadingInt(&s) else { return nil }
        if e.kind == .acknowledged { return "\(page)/acknowledge" }
        if s.hasPrefix(" resolved") || s.hasPrefix(" stopped") { return "\(page)/resolve" }
        guard let lv = s.range(of: "level ") else { return nil }
        var after = s[lv.upperBound...]
        guard let level = leadingInt(&after) else { return nil }
        var round = 1
        if let r = after.range(of: "round "), let colon = after.firstIndex(of: ":"), r.lowerBound < colon {
            var rr = after[r.upperBound...]
            round = leadingInt(&rr) ?? 1
        }
        return "\(page)/\(level)/\(round)"
    }

    /// The people a page line says were paged (`paged @alice (primary), this room via chat`).
    public static func paged(_ e: TimelineEvent) -> [String] {
        guard e.kind == .page || e.kind == .escalation, let r = e.text.range(of: ": paged ") else { return [] }
        var list = e.text[r.upperBound...]
        if let via = list.range(of: " via ") { list = list[..<via.lowerBound] }
        return list.split(separator: ",").compactMap { part in
            let word = part.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
            let handle = word.hasSuffix(".") ? String(word.dropLast()) : word
            return handle.hasPrefix("@") && handle.count > 1 ? handle : nil
        }
    }

    private static func leadingInt(_ s: inout Substring) -> Int? {
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count < 10, let n = Int(digits) else { return nil }
        s = s.dropFirst(digits.count)
        return n
    }
}

/// Derives a ``Postmortem`` from an incident and its timeline in one pass over the events,
/// holding only what the summary needs (counts, phases, participants, the picture's marks or
/// bins), never the events themselves.
public struct PostmortemBuilder {
    /// The actor of events Triage records by itself (snapshots, provider deliveries); not listed as a participant.
    public static let botActor = "triage"
    /// Above this many events, the picture draws bins instead of one mark per event.
    public static let aggregateAbove = 2000
    /// Bins across the plot when aggregating.
    static let binCount = 340

    let incident: Incident
    let generatedAt: Date
    let start: Date
    let span: Double

    var count = 0
    /// Actors in order of first appearance, with their event counts and whether each is a person.
    var actorIndex: [String: Int] = [:]
    var order: [String] = []
    var actorCounts: [Int] = []
    var actorHuman: [Bool] = []
    var phases: [Postmortem.Phase] = []
    var current = IncidentStatus.investigating
    var phaseStart: Date
    var lastAt: Date
    var followUps = 0
    var outputs = 0
    /// Per kind seen: its lane in the picture and its count (a handful of kinds: a short list
    /// searched from the last one hit beats hashing a million kind names twice).
    var kindSlots: [(kind: String, lane: Int, count: Int, code: KindCode)] = []
    var lastSlot = 0
    var severityChanges: [Postmortem.SeverityChange] = []
    var openedSeverity: Severity?
    var paged = false
    var firstPagedAt: Date?
    var pagedAt: [String: Date] = [:]
    var ackedAt: [String: Date] = [:]
    var pagedOrder: [String] = []
    var firstHumanAck: TimelineEvent?
    var firstResponderAction: TimelineEvent?
    var firstMonitoring: TimelineEvent?
    var lastResolved: TimelineEvent?
    var pageKeys: Set<String> = []
    var deliveries: [String: [String]] = [:]
    var folded = 0
    var lanesUsed = [Bool](repeating: false, count: SVGTimeline.lanes.count)
    var marks: [Postmortem.Mark] = []
    var bins: [Int] = []                // lane * binCount + bin -> events, once aggregating
    var keyEvents: [Postmortem.KeyEvent] = []
    let laneOf: [String: Int]

    public init(incident: Incident, generatedAt: Date) {
        self.incident = incident
        self.generatedAt = generatedAt
        start = incident.openedAt
        span = max(1, (incident.resolvedAt ?? generatedAt).timeIntervalSince(incident.openedAt))
        phaseStart = incident.openedAt
        lastAt = incident.openedAt
        var lanes: [String: Int] = [:]
        for (i, lane) in SVGTimeline.lanes.enumerated() { for k in lane.kinds { lanes[k] = i } }
        laneOf = lanes
    }

    /// - Parameters:
    ///   - incident: the incident.
    ///   - events: its timeline, in order.
    ///   - generatedAt: now (the end of an incident that is still open).
    public static func build(incident: Incident, events: [TimelineEvent], generatedAt: Date) -> Postmortem {
        var b = PostmortemBuilder(incident: incident, generatedAt: generatedAt)
        for e in events { b.add(e) }
        return b.finish(source: TimelineEventArray(events))
    }

    /// Reads `source` once and derives the postmortem; the renderers read it again.
    public static func build(incident: Incident, source: any TimelineEventSource, generatedAt: Date) throws -> Postmortem {
        var b = PostmortemBuilder(incident: incident, generatedAt: generatedAt)
        try source.forEachEvent(.summary) { b.add($0) }
        return b.finish(source: source)
    }

    mutating func switchTo(_ status: IncidentStatus, at: Date) {
        guard status != current else { return }
        if at > phaseStart { phases.append(.init(status: current, start: phaseStart, end: at)) }
        current = status
        phaseStart = max(phaseStart, at)
    }

    /// The kinds the summary tells apart, decided once per kind seen rather than by comparing
    /// names for every event.
    enum KindCode {
        case followUp, status, resolved, reopened, severity, opened, page, escalation, acknowledged, snapshot, other

        init(_ kind: TimelineEvent.Kind) {
            switch kind {
            case .followUp: self = .followUp
            case .status: self = .status
            case .resolved: self = .resolved
            case .reopened: self = .reopened
            case .severity: self = .severity
            case .opened: self = .opened
            case .page: self = .page
            case .escalation: self = .escalation
            case .acknowledged: self = .acknowledged
            case .snapshot: self = .snapshot
            default: self = .other
            }
        }
    }

    public mutating func add(_ e: TimelineEvent) {
        count += 1
        let human: Bool
        if let i = actorIndex[e.actor] {
            actorCounts[i] += 1
            human = actorHuman[i]
        } else {
            human = e.actor != Self.botActor
            actorIndex[e.actor] = order.count
            order.append(e.actor)
            actorCounts.append(1)
            actorHuman.append(human)
        }
        if e.at > lastAt { lastAt = e.at }
        if e.output != nil { outputs += 1 }
        let k = slot(e.kind)
        let lane = kindSlots[k].lane, code = kindSlots[k].code
        var label: String?
        switch code {
        case .followUp:
            followUps += 1
        case .status:
            if let to = Self.statusTarget(e) {
                switchTo(to, at: e.at)
                label = to.rawValue
                if to == .monitoring && firstMonitoring == nil { firstMonitoring = e }
            }
        case .resolved:
            switchTo(.resolved, at: e.at)
            lastResolved = e
            label = "resolved"
        case .reopened:
            switchTo(.investigating, at: e.at)
            lastResolved = nil
            label = "reopened"
        case .severity:
            if let (from, to) = Self.severityChange(e) {
                if openedSeverity == nil { openedSeverity = from }
                severityChanges.append(.init(at: e.at, from: from, to: to, by: e.actor))
                label = "\(from.rawValue)→\(to.rawValue)"
            }
        case .opened:
            label = "opened"
        default:
            break
        }
        // Paging: page lines, acknowledgements, and the delivery lines folded into them.
        if code == .page, let d = PageLine.delivery(e), pageKeys.contains(d.key) {
            deliveries[d.key, default: []].append(d.note)
            folded += 1
            return   // folded away: no mark of its own
        }
        if code == .page || code == .escalation || code == .acknowledged, let key = PageLine.key(e) {
            pageKeys.insert(key)
            let people = PageLine.paged(e)
            if code == .page || code == .escalation, e.text.contains(": paged ") {
                paged = true
                if firstPagedAt == nil { firstPagedAt = e.at }
                for p in people where pagedAt[p] == nil {
                    pagedAt[p] = e.at
                    pagedOrder.append(p)
                }
                label = (code == .page ? "paged " : "escalated ") + (people.first ?? "")
                    + (people.count > 1 ? " +\(people.count - 1)" : "")
            }
        }
        if code == .acknowledged && human {
            if firstHumanAck == nil { firstHumanAck = e }
            if ackedAt[e.actor] == nil { ackedAt[e.actor] = e.at }
            label = "ack " + e.actor
        }
        if human && firstResponderAction == nil && code != .opened && code != .snapshot { firstResponderAction = e }

        // The picture.
        lanesUsed[lane] = true
        if let label, keyEvents.count < 40 { keyEvents.append(.init(at: e.at, lane: lane, label: label)) }
        if count <= Self.aggregateAbove {
            marks.append(.init(at: e.at, lane: lane, count: 1, eventID: e.id ?? 0, kind: e.kind.rawValue,
                               title: Self.markTitle(e)))
        } else {
            if bins.isEmpty {
                bins = [Int](repeating: 0, count: SVGTimeline.lanes.count * Self.binCount)
                for m in marks { bins[m.lane * Self.binCount + bin(m.at)] += 1 }
                marks = []
            }
            bins[lane * Self.binCount + bin(e.at)] += 1
        }
    }

    /// Counts an event of `kind`; the index of its slot.
    mutating func slot(_ kind: TimelineEvent.Kind) -> Int {
        let name = kind.rawValue
        if lastSlot < kindSlots.count, kindSlots[lastSlot].kind == name {
            kindSlots[lastSlot].count += 1
            return lastSlot
        }
        let length = name.utf8.count   // unequal lengths: no string comparison
        for i in kindSlots.indices where kindSlots[i].kind.utf8.count == length && kindSlots[i].kind == name {
            kindSlots[i].count += 1
            lastSlot = i
            return i
        }
        lastSlot = kindSlots.count
        kindSlots.append((name, laneOf[name] ?? (SVGTimeline.lanes.count - 1), 1, KindCode(kind)))
        return lastSlot
    }

    func bin(_ d: Date) -> Int {
        let f = d.timeIntervalSince(start) / span
        return max(0, min(Self.binCount - 1, Int((f * Double(Self.binCount)).rounded(.down))))
    }

    static func markTitle(_ e: TimelineEvent) -> String {
        let what = e.command ?? e.text
        return UTCTime.format(e.at) + " " + String(e.actor.prefix(60)) + " " + e.kind.rawValue + ": " + String(what.prefix(140))
    }

    public func finish(source: any TimelineEventSource) -> Postmortem {
        var phases = self.phases
        let end = max(incident.resolvedAt ?? generatedAt, lastAt)
        if end > phaseStart || phases.isEmpty { phases.append(.init(status: current, start: phaseStart, end: max(end, phaseStart))) }

        // Role holders first, then everyone else in order of first appearance, then whoever
        // was paged without a word in the timeline.
        var roles: [String: [String]] = [:]
        var people: [String] = []
        for (role, person) in incident.roleHolders {
            if roles[person] == nil { people.append(person) }
            roles[person, default: []].append(role.rawValue)
        }
        if roles[incident.openedBy] == nil { people.append(incident.openedBy) }
        roles[incident.openedBy, default: []].append("opener")
        for actor in order where roles[actor] == nil && actor != Self.botActor {
            people.append(actor)
            roles[actor] = []
        }
        for p in pagedOrder where roles[p] == nil {
            people.append(p)
            roles[p] = []
        }
        for p in pagedOrder { roles[p, default: []].append("paged") }
        let participants = people.map {
            Postmortem.Participant(name: $0, roles: roles[$0] ?? [], events: actorIndex[$0].map { actorCounts[$0] } ?? 0, pagedAt: pagedAt[$0], acknowledgedAt: ackedAt[$0])
        }

        // Key moments, each with what defined it.
        var moments = KeyMoments(incident)
        let opened = openedSeverity ?? incident.severity
        var list: [Postmortem.Moment] = [
            .init(name: "detected", at: incident.openedAt, definedBy: "the incident was opened by \(incident.openedBy) as \(opened.rawValue)"),
        ]
        if paged {
            moments.acknowledged = firstHumanAck?.at
            let first = firstPagedAt.map { " (first page at \(UTCTime.format($0)))" } ?? ""
            list.append(.init(name: "acknowledged", at: firstHumanAck?.at, definedBy: firstHumanAck.map {
                "the first human acknowledgement of a page: " + Self.clip($0.text)
            } ?? "no page was acknowledged by a person" + first))
        } else {
            moments.acknowledged = firstResponderAction?.at
            list.append(.init(name: "acknowledged", at: firstResponderAction?.at, definedBy: firstResponderAction.map {
                "nobody was paged; the first responder action: \($0.actor) " + Self.describe($0)
            } ?? "nobody was paged and no responder acted"))
        }
        if let m = firstMonitoring {
            moments.mitigated = m.at
            list.append(.init(name: "mitigated", at: m.at, definedBy: "the first /status monitoring, by \(m.actor)"))
        } else {
            list.append(.init(name: "mitigated", at: moments.mitigated, definedBy: moments.mitigated == nil
                              ? "no /status monitoring was recorded" : "the recorded mitigation time"))
        }
        if let r = lastResolved, incident.resolvedAt != nil {
            list.append(.init(name: "resolved", at: incident.resolvedAt, definedBy: "the last resolution, by \(r.actor): " + Self.clip(r.text)))
        } else {
            list.append(.init(name: "resolved", at: incident.resolvedAt, definedBy: incident.resolvedAt == nil ? "not resolved yet" : "the recorded resolution time"))
        }

        // The picture's marks: per event, or bins past the threshold.
        var marks = self.marks
        if !bins.isEmpty {
            marks = bins.indices.filter { bins[$0] > 0 }.map { k in
                let lane = k / Self.binCount, b = k % Self.binCount
                let at = start.addingTimeInterval((Double(b) + 0.5) / Double(Self.binCount) * span)
                let n = bins[k]
                return Postmortem.Mark(at: at, lane: lane, count: n, eventID: 0, kind: SVGTimeline.lanes[lane].name,
                                       title: "\(n) \(SVGTimeline.lanes[lane].name) events around \(UTCTime.format(at))")
            }
        }
        var kindCounts: [String: Int] = [:]
        for s in kindSlots { kindCounts[s.kind] = s.count }
        let peak = ([opened] + severityChanges.map(\.to)).min() ?? incident.severity
        return Postmortem(incident: incident, source: source, eventCount: count, generatedAt: generatedAt, moments: moments, momentList: list,
                          end: end, phases: phases, participants: participants, openedSeverity: opened, peakSeverity: peak,
                          severityChanges: severityChanges, followUpCount: followUps, outputCount: outputs, kindCounts: kindCounts,
                          deliveries: deliveries,
                          foldedCount: folded, lanesUsed: lanesUsed.indices.filter { lanesUsed[$0] }, marks: marks, keyEvents: keyEvents)
    }

    static func clip(_ text: String) -> String {
        text.count > 160 ? String(text.prefix(159)) + "…" : text
    }

    static func describe(_ e: TimelineEvent) -> String {
        if let c = e.command { return "ran " + clip(c) }
        return "(\(e.kind.rawValue)) " + clip(e.text)
    }

    private struct StatusPayload: Decodable { var to: String }
    private struct SeverityPayload: Decodable { var from: String; var to: String }

    /// The status a `status` event moved to (from its payload `{"from":…,"to":…}`).
    static func statusTarget(_ e: TimelineEvent) -> IncidentStatus? {
        guard let payload = e.payload,
              let p = try? JSONDecoder().decode(StatusPayload.self, from: Data(payload.utf8)) else { return nil }
        return IncidentStatus(rawValue: p.to)
    }

    /// The change a `severity` event made (from its payload `{"from":…,"to":…}`).
    static func severityChange(_ e: TimelineEvent) -> (Severity, Severity)? {
        guard let payload = e.payload,
              let p = try? JSONDecoder().decode(SeverityPayload.self, from: Data(payload.utf8)),
              let from = Severity(rawValue: p.from), let to = Severity(rawValue: p.to) else { return nil }
        return (from, to)
    }
}
