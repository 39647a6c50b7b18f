extension Postmortem {
    /// The postmortem with ``Redaction/redact(_:)`` applied to every text that came from
    /// people or the database (titles, summaries, commands, event texts, outputs, payloads).
    /// The Markdown, JSON and SVG renderers call this first.
    public func redacted() -> Postmortem {
        let r = Redaction.redact
        var pm = self
        pm.incident.title = r(incident.title)
        pm.incident.summary = incident.summary.map(r)
        pm.events = events.map { $0.redacted() }
        return pm
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
