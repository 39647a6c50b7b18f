import Foundation

/// Renders a ``Postmortem`` as JSON for other tools: the same data as the Markdown. Dates are
/// ISO 8601 UTC; durations are seconds. Event payloads that hold JSON are embedded as JSON.
public struct JSONPostmortem: Sendable {
    public init() {}

    public func render(_ pm: Postmortem) -> String { buffer(pm).string }

    /// The document as UTF-8 bytes, for writing to a file.
    public func renderData(_ pm: Postmortem) -> Data { buffer(pm).data }

    func buffer(_ pm: Postmortem) -> TextBuffer {
        var out = TextBuffer(capacity: 4096 + pm.eventCount * 200)
        try? write(pm, into: &out) { _ in }
        return out
    }

    /// Renders into `out`, calling `flush` past ``TextBuffer/flushSize`` bytes (see
    /// ``MarkdownPostmortem/write(_:into:flush:)``).
    public func write(_ pm: Postmortem, into out: inout TextBuffer, flush: (inout TextBuffer) throws -> Void) throws {
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
        out.write("\n  ],\n  \"followUps\": [")
        var n = 0
        try pm.source.forEachEvent(.kind(.followUp)) { e in
            out.write(n == 0 ? "\n    " : ",\n    ")
            n += 1
            if out.count > TextBuffer.flushSize { try flush(&out) }
            out.write("{\"event\": ")
            out.write(int: Int(e.id ?? 0))
            out.write(", \"at\": ")
            date(&out, e.at)
            out.write(", \"by\": ")
            out.write(json: e.actor)
            out.write(", \"text\": ")
            out.write(json: e.text)
            out.write(", \"done\": false}")
        }
        out.write("\n  ],\n  \"events\": [")
        n = 0
        try pm.source.forEachEvent(.all) { e in
            out.write(n == 0 ? "\n    " : ",\n    ")
            n += 1
            if out.count > TextBuffer.flushSize { try flush(&out) }
            out.write("{\"id\": ")
            out.write(int: Int(e.id ?? 0))
            out.write(", \"at\": ")
            date(&out, e.at)
            out.write(", \"actor\": ")
            out.write(json: e.actor)
            out.write(", \"kind\": ")
            out.write(json: e.kind.rawValue)
            out.write(", \"command\": ")
            optional(&out, e.command)
            out.write(", \"text\": ")
            out.write(json: e.text)
            out.write(", \"output\": ")
            optional(&out, e.output)
            out.write(", \"payload\": ")
            payload(&out, e.payload)
            out.write("}")
        }
        out.write("\n  ]\n}\n")
    }

    private func date(_ out: inout TextBuffer, _ d: Date) {
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
    private func payload(_ out: inout TextBuffer, _ p: String?) {
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
