import Foundation

/// Renders a ``Postmortem`` as JSON for other tools: the same data as the Markdown. Dates are
/// ISO 8601 UTC; durations are seconds. Event payloads that hold JSON are embedded as JSON.
public struct JSONPostmortem: PostmortemDocument {
    var followUps = 0
    var events = 0

    public init() {}

    public func render(_ pm: Postmortem) -> String { PostmortemStream.string(self, pm) }

    /// The document as UTF-8 bytes, for writing to a file.
    public func renderData(_ pm: Postmortem) -> Data { Data(render(pm).utf8) }

    // Sections filled event by event: the events (the big one, first, so it can stream), the follow-ups.
    public var sectionCount: Int { 2 }

    public mutating func event(_ e: TimelineEvent, deliveries: [String: [String]], into sections: inout [TextBuffer]) {
        sections[0].write(events == 0 ? "\n    " : ",\n    ")
        events += 1
        Self.event(e, into: &sections[0])
        if e.kind == .followUp {
            sections[1].write(followUps == 0 ? "\n    " : ",\n    ")
            followUps += 1
            sections[1].write("{\"event\": ")
            sections[1].write(int: Int(e.id ?? 0))
            sections[1].write(", \"at\": ")
            date(&sections[1], e.at)
            sections[1].write(", \"by\": ")
            sections[1].write(json: e.actor)
            sections[1].write(", \"text\": ")
            sections[1].write(json: e.text)
            sections[1].write(", \"done\": false}")
        }
    }

    /// Both sections are arrays: a comma between the parts of one.
    public func separator(joining section: Int) -> String { "," }

    static func event(_ e: TimelineEvent, into out: inout TextBuffer) {
        out.write("{\"id\": ")
        out.write(int: Int(e.id ?? 0))
        out.write(", \"at\": \"")
        out.write(utc: e.at, iso: true)
        out.write("\", \"actor\": ")
        out.write(json: e.actor)
        out.write(", \"kind\": ")
        out.write(json: e.kind.rawValue)
        out.write(", \"command\": ")
        if let c = e.command { out.write(json: c) } else { out.write("null") }
        out.write(", \"text\": ")
        out.write(json: e.text)
        out.write(", \"output\": ")
        if let o = e.output { out.write(json: o) } else { out.write("null") }
        out.write(", \"payload\": ")
        payload(&out, e.payload)
        out.write("}")
    }

    public func text(after section: Int, _ pm: Postmortem, into out: inout TextBuffer) {
        out.write(section == 0 ? "\n  ],\n  \"followUps\": [" : "\n  ]\n}\n")
    }

    public func head(_ pm: Postmortem, into out: inout TextBuffer) {
        let i = pm.incident
        out.write("{\n  \"format\": \"triage-postmortem/1\",\n  \"generatedAt\": ")
        date(&out, pm.generatedAt)
        out.write(",\n  \"incident\": {\"id\": ")
        out.write(int: Int(i.id ?? 0))
        out.write(", \"title\": ")
        out.write(json: i.title)
        out.write(", \"severity\": \"\(i.severity.rawValue)\", \"openedSeverity\": \"\(pm.openedSeverity.rawValue)\", \"peakSeverity\": \"\(pm.peakSeverity.rawValue)\", \"status\": \"\(i.status.rawValue)\", \"platform\": ")
        out.write(json: i.platform)
        out.write(", \"room\": ")
        out.write(json: i.room)
        out.write(", \"openedBy\": ")
        out.write(json: i.openedBy)
        out.write(", \"summary\": ")
        optional(&out, i.summary)
        out.write(", \"roles\": {")
        for (n, holder) in i.roleHolders.enumerated() {
            if n > 0 { out.write(", ") }
            out.write("\"\(holder.role.rawValue)\": ")
            out.write(json: holder.person)
        }
        out.write("}},\n  \"durationSeconds\": ")
        number(&out, pm.duration)
        out.write(",\n  \"keyMoments\": {")
        for (name, at) in pm.moments.list {
            out.write("\"\(name)\": ")
            if let at { date(&out, at) } else { out.write("null") }
            out.write(", ")
        }
        for (n, interval) in pm.moments.intervals.enumerated() {
            out.write((n == 0 ? "" : ", ") + "\"\(interval.key)\": ")
            optionalNumber(&out, interval.seconds)
        }
        out.write("},\n  \"keyMomentDefinitions\": {")
        for (n, m) in pm.momentList.enumerated() {
            out.write((n == 0 ? "" : ", ") + "\"\(m.name)\": ")
            out.write(json: m.definedBy)
        }
        out.write("},\n  \"severityChanges\": [")
        for (n, c) in pm.severityChanges.enumerated() {
            out.write(n == 0 ? "\n    " : ",\n    ")
            out.write("{\"at\": ")
            date(&out, c.at)
            out.write(", \"from\": \"\(c.from.rawValue)\", \"to\": \"\(c.to.rawValue)\", \"by\": ")
            out.write(json: c.by)
            out.write("}")
        }
        out.write(pm.severityChanges.isEmpty ? "],\n  \"phases\": [" : "\n  ],\n  \"phases\": [")
        for (n, p) in pm.phases.enumerated() {
            out.write(n == 0 ? "\n    " : ",\n    ")
            out.write("{\"status\": \"\(p.status.rawValue)\", \"start\": ")
            date(&out, p.start)
            out.write(", \"end\": ")
            date(&out, p.end)
            out.write(", \"seconds\": ")
            number(&out, p.seconds)
            out.write("}")
        }
        out.write("\n  ],\n  \"participants\": [")
        for (n, p) in pm.participants.enumerated() {
            out.write(n == 0 ? "\n    " : ",\n    ")
            out.write("{\"name\": ")
            out.write(json: p.name)
            out.write(", \"roles\": [")
            out.write(p.roles.map { "\"\($0)\"" }.joined(separator: ", "))
            out.write("], \"events\": ")
            out.write(int: p.events)
            out.write(", \"pagedAt\": ")
            if let at = p.pagedAt { date(&out, at) } else { out.write("null") }
            out.write(", \"acknowledgedAt\": ")
            if let at = p.acknowledgedAt { date(&out, at) } else { out.write("null") }
            out.write("}")
        }
        out.write("\n  ],\n  \"events\": [")
    }

    func date(_ out: inout TextBuffer, _ d: Date) {
        out.write("\"")
        out.write(utc: d, iso: true)
        out.write("\"")
    }

    private func optional(_ out: inout TextBuffer, _ s: String?) {
        if let s { out.write(json: s) } else { out.write("null") }
    }

    private func number(_ out: inout TextBuffer, _ v: Double) {
        guard v.isFinite else { out.write("null"); return }
        let millis = Int((v * 1000).rounded())
        if millis % 1000 == 0 { out.write(int: millis / 1000); return }
        if millis < 0 { out.write("-") }
        let m = abs(millis)
        out.write(int: m / 1000)
        let frac = String(m % 1000)
        out.write("." + String(repeating: "0", count: 3 - frac.count) + frac)
    }

    private func optionalNumber(_ out: inout TextBuffer, _ v: Double?) {
        if let v { number(&out, v) } else { out.write("null") }
    }

    /// Embeds a payload as JSON when it is a JSON object or array, else as a string.
    static func payload(_ out: inout TextBuffer, _ p: String?) {
        guard let p else { out.write("null"); return }
        let first = p.utf8.first { $0 != 0x20 && $0 != 0x0A }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
           (try? JSONSerialization.jsonObject(with: Data(p.utf8))) != nil {
            out.write(p)
        } else {
            out.write(json: p)
        }
    }
}
