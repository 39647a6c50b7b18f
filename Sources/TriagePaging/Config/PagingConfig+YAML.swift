import Foundation
import TriageCore

extension PagingConfig {
    /// Reads the `paging` section. Secrets (routing keys, API keys) come from the environment
    /// variables it names; every problem is a ``ConfigError`` with file and line.
    public static func parse(_ node: YAMLNode, environment: [String: String]) throws -> PagingConfig {
        try node.checkKeys(["people", "schedules", "policies", "providers", "notify", "auto_page", "person_page", "retry",
                            "poll_acknowledgements"])
        var config = PagingConfig()

        if let people = node["people"] {
            for (name, p) in try people.entries() {
                if p.isMapping {
                    try p.checkKeys(["handle", "email", "opsgenie_id", "pagerduty_id", "chat_ids"])
                    var person = PagingPerson(name: name, handle: try p.string("handle"), email: try p.string("email"),
                                              opsgenieID: try p.string("opsgenie_id"), pagerdutyID: try p.string("pagerduty_id"))
                    if let ids = p["chat_ids"] {
                        let list = try ids.strings()
                        for id in list where !id.contains(":") {
                            throw ids.error("chat_ids are PLATFORM:USER_ID (telegram:123456, matrix:@alice:example.org), not '\(id.prefix(60))'")
                        }
                        person.chatIDs = list.isEmpty ? nil : list
                    }
                    config.people[name] = person
                } else {
                    config.people[name] = PagingPerson(name: name, handle: try p.string())
                }
            }
        }

        if let retry = node["retry"] {
            try retry.checkKeys(["base", "cap", "give_up_after", "timeout"])
            config.retry = RetryPolicy(base: try duration(retry, "base") ?? 10, cap: try duration(retry, "cap") ?? 300,
                                       giveUpAfter: try duration(retry, "give_up_after") ?? 3600,
                                       timeout: Double(try duration(retry, "timeout") ?? 10))
        }

        if let providers = node["providers"] {
            for (name, p) in try providers.entries() {
                config.providers[name] = try provider(name: name, node: p, environment: environment, timeout: config.retry.timeout)
            }
        }
        let known = Set(config.providers.keys).union(["chat"])
        if let notify = node["notify"] {
            config.defaultNotify = try notify.strings()
            for n in config.defaultNotify where !known.contains(n) {
                throw notify.error("unknown provider '\(n)' (configured: \(known.sorted().joined(separator: ", ")))")
            }
        } else {
            config.defaultNotify = ["chat"] + config.providers.keys.sorted()
        }

        if let schedules = node["schedules"] {
            for (name, s) in try schedules.entries() {
                config.schedules[name] = try schedule(name: name, node: s, people: config.people)
            }
        }

        if let policies = node["policies"] {
            for (name, p) in try policies.entries() {
                try p.checkKeys(["levels", "repeat"])
                let levelsNode = try p.required("levels")
                var levels: [EscalationLevel] = []
                for l in try levelsNode.list() {
                    try l.checkKeys(["targets", "wait", "notify"])
                    let targetsNode = try l.required("targets")
                    var targets: [EscalationTarget] = []
                    for t in try targetsNode.list() {
                        targets.append(try target(t, config: config))
                    }
                    guard !targets.isEmpty else { throw targetsNode.error("a level needs at least one target") }
                    let notify = try l["notify"].map { try $0.strings() } ?? config.defaultNotify
                    for n in notify where !known.contains(n) {
                        throw l["notify"]!.error("unknown provider '\(n)' (configured: \(known.sorted().joined(separator: ", ")))")
                    }
                    guard let wait = try duration(l, "wait") else { throw l.error("missing required key 'wait' (e.g. 5m)") }
                    guard wait > 0 else { throw l["wait"]!.error("wait must be longer than 0s") }
                    levels.append(EscalationLevel(targets: targets, waitSeconds: wait, notify: notify))
                }
                guard !levels.isEmpty else { throw levelsNode.error("a policy needs at least one level") }
                let repeats = try p.int("repeat") ?? 0
                guard (0...20).contains(repeats) else { throw p["repeat"]!.error("repeat must be between 0 and 20") }
                config.policies[name] = EscalationPolicy(name: name, levels: levels, repeats: repeats)
            }
        }

        if let auto = node["auto_page"] {
            for (sev, policyNode) in try auto.entries() {
                guard let severity = Severity(text: sev) else { throw policyNode.error("'\(sev)' is not a severity (sev1…sev4)") }
                let policy = try policyNode.string()
                guard config.policies[policy] != nil else {
                    throw policyNode.error("unknown policy '\(policy)' (policies: \(config.policies.keys.sorted().joined(separator: ", ")))")
                }
                config.autoPage[severity] = policy
            }
        }

        if let poll = try duration(node, "poll_acknowledgements") { config.pollAcknowledgements = poll }

        if let person = node["person_page"] {
            try person.checkKeys(["wait", "repeat"])
            config.personWait = try duration(person, "wait") ?? 300
            config.personRepeats = try person.int("repeat") ?? 2
        }
        return config
    }

    static func duration(_ node: YAMLNode, _ key: String) throws -> Int? {
        guard let n = node[key] else { return nil }
        let text = try n.string()
        guard let s = DurationParser.seconds(text) else { throw n.error("expected a duration such as 30s, 5m or 1h") }
        return s
    }

    static func target(_ t: YAMLNode, config: PagingConfig) throws -> EscalationTarget {
        try t.checkKeys(["schedule", "person", "room"])
        guard t.keys.count == 1 else { throw t.error("a target is one of schedule: NAME, person: NAME, room: incident|PLATFORM:ROOM") }
        if let s = try t.string("schedule") {
            guard config.schedules[s] != nil else { throw t["schedule"]!.error("unknown schedule '\(s)'") }
            return .schedule(s)
        }
        if let p = try t.string("person") {
            guard let person = config.person(named: p) else { throw t["person"]!.error("unknown person '\(p)'") }
            return .person(person.name)
        }
        let r = try t.required("room").string()
        guard r == "incident" || (r.contains(":") && !r.hasPrefix(":")) else {
            throw t["room"]!.error("room is 'incident' or PLATFORM:ROOM (telegram:-1001234, matrix:!id:server)")
        }
        return .room(r)
    }

    static func schedule(name: String, node s: YAMLNode, people: [String: PagingPerson]) throws -> OnCallSchedule {
        try s.checkKeys(["timezone", "handoff", "rotation", "start", "people", "overrides"])
        let zoneName = try s.string("timezone") ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else {
            throw s["timezone"]!.error("unknown time zone '\(zoneName)' (use an IANA name such as Europe/Berlin)")
        }
        let handoffText = try s.string("handoff") ?? "09:00"
        let hm = handoffText.split(separator: ":").compactMap { Int($0) }
        guard hm.count == 2, (0..<24).contains(hm[0]), (0..<60).contains(hm[1]) else {
            throw s["handoff"]!.error("handoff is a local time HH:MM, e.g. 09:00")
        }
        let rotation = try duration(s, "rotation") ?? 7 * 86400
        guard rotation >= 3600 else { throw s["rotation"]!.error("rotation must be at least 1h") }
        let startText = try s.required("start").string()
        let ymd = startText.split(separator: "-").compactMap { Int($0) }
        guard ymd.count == 3, (1...12).contains(ymd[1]), (1...31).contains(ymd[2]) else {
            throw s["start"]!.error("start is the local date of the first handoff, YYYY-MM-DD")
        }
        let peopleNode = try s.required("people")
        let names = try peopleNode.strings()
        guard !names.isEmpty else { throw peopleNode.error("a schedule needs at least one person") }
        var keys: [String] = []
        for n in names {
            guard let p = people[n] ?? people.values.first(where: { $0.matches(n) }) else {
                throw peopleNode.error("unknown person '\(n)' (add them under paging.people)")
            }
            keys.append(p.name)
        }
        var overrides: [OnCallOverride] = []
        if let list = s["overrides"] {
            for o in try list.list() {
                try o.checkKeys(["person", "start", "end"])
                let who = try o.required("person").string()
                guard let p = people[who] ?? people.values.first(where: { $0.matches(who) }) else {
                    throw o["person"]!.error("unknown person '\(who)'")
                }
                guard let from = isoDate(try o.required("start").string()), let to = isoDate(try o.required("end").string()) else {
                    throw o.error("start and end are ISO 8601 times, e.g. 2026-12-24T09:00:00Z")
                }
                guard to > from else { throw o.error("end must be after start") }
                overrides.append(OnCallOverride(schedule: name, person: p.name, startsAt: from, endsAt: to))
            }
        }
        return OnCallSchedule(name: name, timeZone: zone, handoffHour: hm[0], handoffMinute: hm[1], rotationSeconds: rotation,
                              start: (ymd[0], ymd[1], ymd[2]), people: keys, overrides: overrides)
    }

    static func isoDate(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }

    static func provider(name: String, node p: YAMLNode, environment: [String: String], timeout: Double) throws -> any PagingProvider {
        guard name != "chat" else { throw p.error("'chat' is built in; it needs no provider entry") }
        let type = try p.string("type") ?? name
        func secret(_ key: String) throws -> String {
            guard let value = try optionalSecret(key) else { _ = try p.required(key); throw p.error("\(key) is required") }
            return value
        }
        func optionalSecret(_ key: String) throws -> String? {
            guard p[key] != nil else { return nil }
            let envName = try p.required(key).string()
            guard let value = environment[envName], !value.isEmpty else {
                throw p[key]!.error("environment variable \(envName) is not set")
            }
            return value
        }
        switch type {
        case "pagerduty":
            try p.checkKeys(["type", "routing_key_env", "url", "source", "api_token_env", "api_url"])
            return PagerDutyProvider(name: name, routingKey: try secret("routing_key_env"),
                                     baseURL: try p.string("url") ?? "https://events.pagerduty.com",
                                     source: try p.string("source") ?? "triage", timeout: timeout,
                                     apiToken: try optionalSecret("api_token_env"),
                                     apiURL: try p.string("api_url") ?? "https://api.pagerduty.com")
        case "opsgenie":
            try p.checkKeys(["type", "api_key_env", "url"])
            return OpsgenieProvider(name: name, apiKey: try secret("api_key_env"),
                                    baseURL: try p.string("url") ?? "https://api.opsgenie.com", timeout: timeout)
        case "webhook":
            try p.checkKeys(["type", "url", "receiver", "external_url"])
            return AlertmanagerWebhookProvider(name: name, url: try p.required("url").string(),
                                               receiver: try p.string("receiver") ?? "triage",
                                               externalURL: try p.string("external_url") ?? "", timeout: timeout)
        default:
            throw (p["type"] ?? p).error("unknown provider type '\(type)' (pagerduty, opsgenie, webhook)")
        }
    }
}
