extension Postmortem {
    /// The postmortem with ``Redaction/redact(_:)`` applied to every text that came from
    /// people or the database (titles, summaries, commands, event texts, outputs, payloads).
    /// The Markdown, JSON and SVG renderers call this first.
    public func redacted() -> Postmortem {
        let r = Redaction.redact
        var pm = self
        pm.incident.title = r(incident.title)
        pm.incident.summary = incident.summary.map(r)
        pm.source = RedactedEvents(base: source)
        pm.keyEvents = keyEvents.map { var k = $0; k.label = r(k.label); return k }
        pm.marks = marks.map { var m = $0; m.title = r(m.title); return m }
        return pm
    }
}

/// Events read through ``Redaction``, one at a time, as the renderers stream them.
struct RedactedEvents: TimelineEventSource {
    let base: any TimelineEventSource

    func forEachEvent(_ filter: TimelineEventFilter, _ body: (TimelineEvent) throws -> Void) throws {
        try base.forEachEvent(filter) { try body($0.redacted()) }
    }
}

extension TimelineEvent {
    /// The event with its command, text, output and payload redacted.
    public func redacted() -> TimelineEvent {
        let r = Redaction.redact
        var e = self
        e.command = command.map(r)
        e.text = r(text)
        e.output = output.map(r)
        e.payload = payload.map(Redaction.redactJSON)
        return e
    }
}
