import Foundation

/// Draws an incident as an SVG picture: status phases as coloured bands across the whole
/// height, one lane per kind of event, and exactly one mark per event (an element carrying a
/// `data-event` attribute, with a `<title>` tooltip).
public struct SVGTimeline: Sendable {
    public var width: Double
    let left = 150.0, right = 30.0, top = 56.0, laneHeight = 26.0, axisHeight = 46.0

    public init(width: Double = 1200) {
        self.width = width
    }

    /// The lanes, top to bottom, and the event kinds each holds (anything else goes to "other").
    static let lanes: [(name: String, kinds: Set<String>)] = [
        ("lifecycle", ["opened", "status", "severity", "role", "resolved", "reopened"]),
        ("paging", ["page", "acknowledged", "escalation"]),
        ("database", ["snapshot", "command", "preview", "confirmation", "action"]),
        ("notes", ["note"]),
        ("follow-ups", ["action_item"]),
        ("other", []),
    ]

    static func color(_ status: IncidentStatus) -> String {
        switch status {
        case .investigating: "#f8d7da"
        case .identified: "#fff3cd"
        case .monitoring: "#d1ecf1"
        case .resolved: "#d4edda"
        }
    }

    static func markColor(_ lane: Int) -> String {
        ["#6f42c1", "#d63384", "#0d6efd", "#495057", "#fd7e14", "#6c757d"][lane]
    }

    public func render(_ pm: Postmortem) -> String { buffer(pm).string }

    /// The picture as UTF-8 bytes, for writing to a file.
    public func renderData(_ pm: Postmortem) -> Data { buffer(pm).data }

    func buffer(_ pm: Postmortem) -> TextBuffer {
        let pm = pm.redacted()
        let start = pm.incident.openedAt
        let span = max(1, pm.end.timeIntervalSince(start))
        let plotWidth = width - left - right
        let lanesCount = Self.lanes.count
        let plotBottom = top + Double(lanesCount) * laneHeight
        let height = plotBottom + axisHeight + 24
        func x(_ d: Date) -> Double { left + max(0, min(1, d.timeIntervalSince(start) / span)) * plotWidth }

        var laneOf: [String: Int] = [:]
        for (i, lane) in Self.lanes.enumerated() { for k in lane.kinds { laneOf[k] = i } }

        var out = TextBuffer(capacity: 8192 + pm.events.count * 200)
        out.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        out.write("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        out.write(decimal: width)
        out.write("\" height=\"")
        out.write(decimal: height)
        out.write("\" viewBox=\"0 0 ")
        out.write(decimal: width)
        out.write(" ")
        out.write(decimal: height)
        out.write("\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n")
        out.write("<title>")
        out.write(xml: "Incident #\(pm.incident.id ?? 0) \(pm.incident.severity.rawValue): \(pm.incident.title)")
        out.write("</title>\n<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n")
        out.write("<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">")
        out.write(xml: "Incident #\(pm.incident.id ?? 0) \(pm.incident.severity.rawValue): \(pm.incident.title)", limit: 120)
        out.write("</text>\n<text x=\"10\" y=\"38\" fill=\"#555555\">")
        out.write(xml: "\(UTCTime.format(start)) → \(UTCTime.format(pm.end)) · \(DurationFormatter.format(seconds: pm.duration)) · TTA \(KeyMoments.format(pm.moments.timeToAcknowledge)) · TTR \(KeyMoments.format(pm.moments.timeToResolve)) · \(pm.events.count) events")
        out.write("</text>\n")

        // Status phases as bands.
        out.write("<g class=\"phases\">\n")
        for p in pm.phases {
            let x0 = x(p.start), x1 = max(x(p.end), x0 + 1)
            out.write("<rect class=\"phase\" data-status=\"\(p.status.rawValue)\" x=\"")
            out.write(decimal: x0)
            out.write("\" y=\"")
            out.write(decimal: top - 12)
            out.write("\" width=\"")
            out.write(decimal: x1 - x0)
            out.write("\" height=\"")
            out.write(decimal: plotBottom - top + 12)
            out.write("\" fill=\"\(Self.color(p.status))\"><title>")
            out.write(xml: "\(p.status.rawValue): \(UTCTime.format(p.start)) → \(UTCTime.format(p.end)) (\(DurationFormatter.format(seconds: p.seconds)))")
            out.write("</title></rect>\n")
            if x1 - x0 > 70 {
                out.write("<text x=\"")
                out.write(decimal: x0 + 4)
                out.write("\" y=\"")
                out.write(decimal: top - 1)
                out.write("\" font-size=\"11\" fill=\"#333333\">\(p.status.rawValue)</text>\n")
            }
        }
        out.write("</g>\n")

        // Lanes.
        out.write("<g class=\"lanes\">\n")
        for (i, lane) in Self.lanes.enumerated() {
            let y = top + Double(i) * laneHeight
            out.write("<line x1=\"")
            out.write(decimal: left)
            out.write("\" x2=\"")
            out.write(decimal: width - right)
            out.write("\" y1=\"")
            out.write(decimal: y + laneHeight)
            out.write("\" y2=\"")
            out.write(decimal: y + laneHeight)
            out.write("\" stroke=\"#cccccc\" stroke-width=\"0.5\"/>\n<text x=\"")
            out.write(decimal: left - 8)
            out.write("\" y=\"")
            out.write(decimal: y + laneHeight / 2 + 4)
            out.write("\" text-anchor=\"end\">\(lane.name)</text>\n")
        }
        out.write("</g>\n")

        // Key moments as vertical lines.
        out.write("<g class=\"moments\">\n")
        for (index, (name, at)) in pm.moments.list.enumerated() {
            guard let at else { continue }
            let mx = x(at)
            // Labels step up one line each so moments close in time stay readable; past the
            // middle they sit left of their line so the last ones are not cut at the edge.
            let rightHalf = mx > left + plotWidth / 2
            out.write("<line x1=\"")
            out.write(decimal: mx)
            out.write("\" x2=\"")
            out.write(decimal: mx)
            out.write("\" y1=\"")
            out.write(decimal: top)
            out.write("\" y2=\"")
            out.write(decimal: plotBottom)
            out.write("\" stroke=\"#212529\" stroke-dasharray=\"3,3\"><title>")
            out.write(xml: "\(name): \(UTCTime.format(at))")
            out.write("</title></line>\n<text x=\"")
            out.write(decimal: rightHalf ? mx - 3 : mx + 3)
            out.write("\" y=\"")
            out.write(decimal: plotBottom - 3 - 11 * Double(index))
            out.write(rightHalf ? "\" text-anchor=\"end" : "")
            out.write("\" font-size=\"10\" fill=\"#212529\">\(name)</text>\n")
        }
        out.write("</g>\n")

        // One mark per event.
        out.write("<g class=\"events\">\n")
        for e in pm.events {
            let lane = laneOf[e.kind.rawValue] ?? (lanesCount - 1)
            out.write("<rect class=\"mark\" data-event=\"")
            out.write(int: Int(e.id ?? 0))
            out.write("\" data-kind=\"")
            out.write(xml: e.kind.rawValue)
            out.write("\" x=\"")
            out.write(decimal: x(e.at) - 1.5)
            out.write("\" y=\"")
            out.write(decimal: top + Double(lane) * laneHeight + 5)
            out.write("\" width=\"3\" height=\"16\" fill=\"\(Self.markColor(lane))\"><title>")
            out.write(utc: e.at)
            out.write(" ")
            out.write(xml: e.actor, limit: 60)
            out.write(" ")
            out.write(xml: e.kind.rawValue)
            out.write(": ")
            out.write(xml: e.command ?? e.text, limit: 140)
            out.write("</title></rect>\n")
        }
        out.write("</g>\n")

        // Time axis.
        let step = Self.tickStep(span)
        out.write("<g class=\"axis\">\n<line x1=\"")
        out.write(decimal: left)
        out.write("\" x2=\"")
        out.write(decimal: width - right)
        out.write("\" y1=\"")
        out.write(decimal: plotBottom)
        out.write("\" y2=\"")
        out.write(decimal: plotBottom)
        out.write("\" stroke=\"#333333\"/>\n")
        let firstTick = (start.timeIntervalSince1970 / step).rounded(.up) * step
        var t = firstTick
        var previousDay = ""
        while t <= start.timeIntervalSince1970 + span + 0.001 {
            let d = Date(timeIntervalSince1970: t)
            let tx = x(d)
            let label = UTCTime.format(d)   // 2026-11-27 14:03:07 UTC
            let day = String(label.prefix(10))
            let clock = step >= 60 ? String(label.dropFirst(11).prefix(5)) : String(label.dropFirst(11).prefix(8))
            out.write("<line x1=\"")
            out.write(decimal: tx)
            out.write("\" x2=\"")
            out.write(decimal: tx)
            out.write("\" y1=\"")
            out.write(decimal: plotBottom)
            out.write("\" y2=\"")
            out.write(decimal: plotBottom + 5)
            out.write("\" stroke=\"#333333\"/>\n<text x=\"")
            out.write(decimal: tx)
            out.write("\" y=\"")
            out.write(decimal: plotBottom + 18)
            out.write("\" text-anchor=\"middle\">\(clock)</text>\n")
            if day != previousDay {
                out.write("<text x=\"")
                out.write(decimal: tx)
                out.write("\" y=\"")
                out.write(decimal: plotBottom + 32)
                out.write("\" text-anchor=\"middle\" fill=\"#555555\">\(day)</text>\n")
                previousDay = day
            }
            t += step
        }
        out.write("<text x=\"")
        out.write(decimal: width - right)
        out.write("\" y=\"")
        out.write(decimal: height - 6)
        out.write("\" text-anchor=\"end\" fill=\"#555555\">time (UTC)</text>\n</g>\n</svg>\n")
        return out
    }

    /// A tick spacing that gives at most 8 ticks over `span` seconds.
    static func tickStep(_ span: Double) -> Double {
        let steps: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
                               86400, 172800, 604800, 2592000]
        return steps.first { span / $0 <= 8 } ?? (span / 8).rounded(.up)
    }
}
