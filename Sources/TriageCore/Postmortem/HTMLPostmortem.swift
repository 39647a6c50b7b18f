import Foundation

/// Renders a ``Postmortem`` as one self-contained HTML file: the Markdown's content, the
/// timeline picture inline (SVG), command outputs in collapsible `<details>`, a small style
/// sheet, no scripts and nothing fetched from elsewhere.
public struct HTMLPostmortem: PostmortemDocument {
    public init() {}

    public func render(_ pm: Postmortem) -> String { PostmortemStream.string(self, pm) }

    static let style = """
        body{font-family:Helvetica,Arial,sans-serif;max-width:1240px;margin:24px auto;padding:0 16px;color:#212529;line-height:1.4}
        h1{font-size:24px}h2{font-size:19px;margin-top:28px;border-bottom:1px solid #dee2e6;padding-bottom:4px}h3{font-size:16px}
        table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #dee2e6;padding:3px 8px;text-align:left;vertical-align:top}
        th{background:#f1f3f5}td.t{white-space:nowrap;font-variant-numeric:tabular-nums}
        details{margin:6px 0;border:1px solid #dee2e6;border-radius:4px;padding:4px 8px}summary{cursor:pointer;font-size:13px}
        pre{background:#f8f9fa;padding:8px;overflow-x:auto;font-size:12px}code{font-size:12px}
        .picture{overflow-x:auto}.note{color:#6c757d;font-style:italic}ul.todo{list-style:none;padding-left:8px}
        """

    // Sections filled event by event: the timeline table, the outputs, the follow-ups.
    public var sectionCount: Int { 3 }
    public var firstSectionEvents: TimelineEventFilter { .withoutOutputs }
    public var laterSectionEvents: TimelineEventFilter { .withOutputOrKind(.followUp) }

    public mutating func event(_ e: TimelineEvent, deliveries: [String: [String]], into sections: inout [TextBuffer],
                               filling: Range<Int>) {
        if filling.contains(0) {
            if let d = PageLine.delivery(e), deliveries[d.key] != nil { return }   // folded into its page line
            Self.tableRow(e, deliveries: deliveries, into: &sections[0])
        }
        if filling.contains(1), let output = e.output { Self.details(e, output, into: &sections[1]) }
        if filling.contains(2), e.kind == .followUp {
            sections[2].write("<li><input type=\"checkbox\" disabled> ")
            sections[2].write(xml: e.text)
            sections[2].write(" (")
            sections[2].write(xml: e.actor)
            sections[2].write(", ")
            sections[2].write(utc: e.at)
            sections[2].write(")</li>\n")
        }
    }

    static func tableRow(_ e: TimelineEvent, deliveries: [String: [String]], into out: inout TextBuffer) {
        out.write("<tr><td class=\"t\">")
        out.write(utc: e.at)
        out.write("</td><td>")
        out.write(xml: e.actor)
        out.write("</td><td>")
        out.write(xml: e.kind.rawValue)
        out.write("</td><td>")
        if let command = e.command {
            out.write("<code>")
            out.write(xml: command)
            out.write("</code> → ")
        }
        out.write(xml: e.text)
        if let key = PageLine.key(e), let notes = deliveries[key] {
            out.write(" — ")
            out.write(xml: notes.joined(separator: "; "))
        }
        out.write("</td></tr>\n")
    }

    static func details(_ e: TimelineEvent, _ output: String, into out: inout TextBuffer) {
        out.write("<details>\n<summary>")
        out.write(utc: e.at)
        out.write(" · ")
        out.write(xml: e.actor)
        out.write(" · ")
        if let command = e.command {
            out.write("<code>")
            out.write(xml: command)
            out.write("</code> — ")
        } else {
            out.write(xml: e.kind.rawValue)
            out.write(" — ")
        }
        out.write(xml: e.text)
        out.write("</summary>\n<pre>")
        out.write(xml: output)
        out.write("</pre>\n</details>\n")
    }

    public func head(_ pm: Postmortem, into out: inout TextBuffer) {
        let i = pm.incident
        out.write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
        out.write(xml: "Postmortem: incident #\(i.id ?? 0) — \(i.title)")
        out.write("</title>\n<style>\n\(Self.style)\n</style>\n</head>\n<body>\n<h1>")
        out.write(xml: "Postmortem: incident #\(i.id ?? 0) — \(i.title)")
        out.write("</h1>\n<table class=\"facts\">\n")
        func fact(_ key: String, _ value: String) {
            out.write("<tr><th>\(key)</th><td>")
            out.write(xml: value)
            out.write("</td></tr>\n")
        }
        fact("Severity", pm.severityDescription)
        fact("Status", i.status.rawValue)
        fact("Room", "\(i.platform):\(i.room)")
        fact("Opened", "\(UTCTime.format(i.openedAt)) by \(i.openedBy)")
        fact("Resolved", i.resolvedAt.map(UTCTime.format) ?? "not yet")
        fact("Duration", DurationFormatter.format(seconds: pm.duration) + (i.resolvedAt == nil ? " (still open)" : ""))
        if let summary = i.summary { fact("Summary", summary) }
        fact("Events", "\(pm.eventCount)" + (pm.foldedCount > 0 ? " (\(pm.foldedCount) provider delivery lines folded into their pages)" : ""))
        out.write("</table>\n<p class=\"note\">Generated by Triage on \(UTCTime.format(pm.generatedAt)). All times are UTC.</p>\n")

        out.write("<h2>Key moments</h2>\n<table>\n<tr><th>Moment</th><th>Time (UTC)</th><th>Since detection</th><th>Defined by</th></tr>\n")
        for m in pm.momentList {
            out.write("<tr><td>\(m.name)</td><td class=\"t\">\(m.at.map(UTCTime.format) ?? "-")</td><td class=\"t\">")
            out.write(m.at.map { DurationFormatter.format(seconds: $0.timeIntervalSince(pm.moments.detected)) } ?? "-")
            out.write("</td><td>")
            out.write(xml: m.definedBy)
            out.write("</td></tr>\n")
        }
        out.write("</table>\n<ul>\n")
        for interval in pm.moments.intervals {
            let label = interval.name.prefix(1).uppercased() + interval.name.dropFirst() + (interval.abbreviation.map { " (\($0))" } ?? "")
            out.write("<li><b>\(label):</b> \(KeyMoments.format(interval.seconds))</li>\n")
        }
        out.write("</ul>\n")
        if !pm.severityChanges.isEmpty {
            out.write("<h3>Severity</h3>\n<table>\n<tr><th>Time (UTC)</th><th>Change</th><th>By</th></tr>\n")
            out.write("<tr><td class=\"t\">\(UTCTime.format(i.openedAt))</td><td>opened \(pm.openedSeverity.rawValue)</td><td>")
            out.write(xml: i.openedBy)
            out.write("</td></tr>\n")
            for c in pm.severityChanges {
                out.write("<tr><td class=\"t\">\(UTCTime.format(c.at))</td><td>\(c.from.rawValue) → \(c.to.rawValue)</td><td>")
                out.write(xml: c.by)
                out.write("</td></tr>\n")
            }
            out.write("</table>\n<p>Peak severity: <b>\(pm.peakSeverity.rawValue)</b>.</p>\n")
        }
        out.write("<h3>Status phases</h3>\n<table>\n<tr><th>Status</th><th>From (UTC)</th><th>To (UTC)</th><th>Duration</th></tr>\n")
        for p in pm.phases {
            out.write("<tr><td>\(p.status.rawValue)</td><td class=\"t\">\(UTCTime.format(p.start))</td><td class=\"t\">\(UTCTime.format(p.end))</td><td>\(DurationFormatter.format(seconds: p.seconds))</td></tr>\n")
        }
        out.write("</table>\n")

        out.write("<h2>Participants and roles</h2>\n<table>\n<tr><th>Person</th><th>Roles</th><th>Events</th><th>Paged (UTC)</th><th>Acknowledged (UTC)</th></tr>\n")
        for p in pm.participants {
            out.write("<tr><td>")
            out.write(xml: p.name)
            out.write("</td><td>\(p.roles.isEmpty ? "-" : p.roles.joined(separator: ", "))</td><td>\(p.events)</td><td class=\"t\">")
            out.write(p.pagedAt.map(UTCTime.format) ?? "-")
            out.write("</td><td class=\"t\">")
            out.write(p.acknowledgedAt.map(UTCTime.format) ?? "-")
            out.write("</td></tr>\n")
        }
        out.write("</table>\n")

        out.write("<h2>Timeline</h2>\n<div class=\"picture\">\n")
        var svg = SVGTimeline().buffer(pm).string
        if svg.hasPrefix("<?xml"), let end = svg.firstIndex(of: "\n") { svg = String(svg[svg.index(after: end)...]) }
        out.write(svg)
        out.write("</div>\n<table class=\"timeline\">\n<tr><th>Time (UTC)</th><th>Who</th><th>What</th><th>Detail</th></tr>\n")
    }

    public func text(after section: Int, _ pm: Postmortem, into out: inout TextBuffer) {
        switch section {
        case 0:
            if pm.eventCount == 0 { out.write("<tr><td colspan=\"4\">No events.</td></tr>\n") }
            out.write("</table>\n<h2>Commands run</h2>\n")
            if pm.outputCount == 0 { out.write("<p class=\"note\">No command output was recorded.</p>\n") }
        case 1:
            out.write("<h2>Follow-up actions</h2>\n")
            if pm.followUpCount == 0 { out.write("<p class=\"note\">None recorded. Add them with /action TEXT during the incident.</p>\n") }
            out.write("<ul class=\"todo\">\n")
        default:
            out.write("</ul>\n")
            for (title, hint) in [("Impact", "who and what was affected, how badly, for how long."),
                                  ("Root cause", "what happened and why; the chain of causes, not a person."),
                                  ("Lessons", "what went well, what went badly, where we were lucky.")] {
                out.write("<h2>\(title)</h2>\n<p class=\"note\">To fill in: \(hint)</p>\n")
            }
            out.write("</body>\n</html>\n")
        }
    }
}
