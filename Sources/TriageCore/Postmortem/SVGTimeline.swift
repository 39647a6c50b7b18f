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

    /// One label placed above the plot: its text, where it points, and its row.
    struct PlacedLabel {
        var text: String
        var x: Double        // where it points (the event or moment)
        var x0: Double       // where the text starts
        var row: Int
        var bold: Bool
        var laneY: Double?   // the lane it points down to (nil: a key moment, the whole height)
    }

    /// Rows of labels above the plot, at most this many; a label that fits in none is left
    /// out (its mark keeps its tooltip), so labels never overlap.
    static let labelRows = 6
    static let charWidth = 6.2, labelGap = 6.0, rowHeight = 13.0

    /// Places labels left to right in the first row where they do not touch the previous one.
    static func place(_ items: [(text: String, x: Double, bold: Bool, laneY: Double?)], minX: Double, maxX: Double) -> [PlacedLabel] {
        var ends = [Double](repeating: -Double.infinity, count: labelRows)
        var placed: [PlacedLabel] = []
        for item in items.sorted(by: { $0.x < $1.x }) {
            let w = Double(item.text.count) * charWidth
            let x0 = max(minX, min(item.x - 2, maxX - w))
            guard let row = ends.firstIndex(where: { $0 + labelGap <= x0 }) else { continue }
            ends[row] = x0 + w
            placed.append(PlacedLabel(text: item.text, x: item.x, x0: x0, row: row, bold: item.bold, laneY: item.laneY))
        }
        return placed
    }

    func buffer(_ pm: Postmortem) -> TextBuffer {
        let pm = pm.redacted()
        let start = pm.incident.openedAt
        let span = max(1, pm.end.timeIntervalSince(start))
        let plotWidth = width - left - right
        func x(_ d: Date) -> Double { left + max(0, min(1, d.timeIntervalSince(start) / span)) * plotWidth }

        // Only lanes that have events (lifecycle at least).
        let used = pm.lanesUsed.isEmpty ? [0] : pm.lanesUsed
        var rowOf: [Int: Int] = [:]
        for (r, lane) in used.enumerated() { rowOf[lane] = r }

        // Labels: the key moments and the key events, in rows above the plot.
        var items: [(text: String, x: Double, bold: Bool, laneY: Double?)] = []
        for m in pm.momentList { if let at = m.at { items.append((m.name, x(at), true, nil)) } }
        for k in pm.keyEvents { if let r = rowOf[k.lane] { items.append((k.label, x(k.at), false, Double(r))) } }
        let labels = Self.place(items, minX: left, maxX: width - right)
        let labelRowsUsed = (labels.map(\.row).max() ?? -1) + 1
        let plotTop = top + Double(labelRowsUsed) * Self.rowHeight + (labelRowsUsed > 0 ? 14 : 0)
        let plotBottom = plotTop + Double(used.count) * laneHeight
        let height = plotBottom + axisHeight + 24
        func laneTop(_ lane: Int) -> Double { plotTop + Double(rowOf[lane] ?? 0) * laneHeight }

        var out = TextBuffer(capacity: 8192 + pm.marks.count * 200)
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
        let severity = pm.severityChanges.isEmpty ? pm.incident.severity.rawValue
            : "\(pm.incident.severity.rawValue) (peak \(pm.peakSeverity.rawValue))"
        out.write("<title>")
        out.write(xml: "Incident #\(pm.incident.id ?? 0) \(severity): \(pm.incident.title)")
        out.write("</title>\n<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n")
        out.write("<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">")
        out.write(xml: "Incident #\(pm.incident.id ?? 0) \(severity): \(pm.incident.title)", limit: 120)
        out.write("</text>\n<text x=\"10\" y=\"38\" fill=\"#555555\">")
        out.write(xml: "\(UTCTime.format(start)) → \(UTCTime.format(pm.end)) · \(DurationFormatter.format(seconds: pm.duration)) · TTA \(KeyMoments.format(pm.moments.timeToAcknowledge)) · TTR \(KeyMoments.format(pm.moments.timeToResolve)) · \(pm.eventCount) events")
        out.write("</text>\n")

        // Status phases as bands.
        out.write("<g class=\"phases\">\n")
        for p in pm.phases {
            let x0 = x(p.start), x1 = max(x(p.end), x0 + 1)
            out.write("<rect class=\"phase\" data-status=\"\(p.status.rawValue)\" x=\"")
            out.write(decimal: x0)
            out.write("\" y=\"")
            out.write(decimal: plotTop - 12)
            out.write("\" width=\"")
            out.write(decimal: x1 - x0)
            out.write("\" height=\"")
            out.write(decimal: plotBottom - plotTop + 12)
            out.write("\" fill=\"\(Self.color(p.status))\"><title>")
            out.write(xml: "\(p.status.rawValue): \(UTCTime.format(p.start)) → \(UTCTime.format(p.end)) (\(DurationFormatter.format(seconds: p.seconds)))")
            out.write("</title></rect>\n")
            if x1 - x0 > 70 {
                out.write("<text x=\"")
                out.write(decimal: x0 + 4)
                out.write("\" y=\"")
                out.write(decimal: plotTop - 2)
                out.write("\" font-size=\"10\" fill=\"#333333\">\(p.status.rawValue)</text>\n")
            }
        }
        out.write("</g>\n")

        // Lanes (only those with events).
        out.write("<g class=\"lanes\">\n")
        for lane in used {
            let y = laneTop(lane)
            out.write("<line x1=\"")
            out.write(decimal: left)
            out.write("\" x2=\"")
            out.write(decimal: width - right)
            out.write("\" y1=\"")
            out.write(decimal: y + laneHeight)
            out.write("\" y2=\"")
            out.write(decimal: y + laneHeight)
            out.write("\" stroke=\"#cccccc\" stroke-width=\"0.5\"/>\n<text class=\"lane\" x=\"")
            out.write(decimal: left - 8)
            out.write("\" y=\"")
            out.write(decimal: y + laneHeight / 2 + 4)
            out.write("\" text-anchor=\"end\">\(Self.lanes[lane].name)</text>\n")
        }
        out.write("</g>\n")

        // Key moments as vertical lines.
        out.write("<g class=\"moments\">\n")
        for m in pm.momentList {
            guard let at = m.at else { continue }
            let mx = x(at)
            out.write("<line x1=\"")
            out.write(decimal: mx)
            out.write("\" x2=\"")
            out.write(decimal: mx)
            out.write("\" y1=\"")
            out.write(decimal: plotTop)
            out.write("\" y2=\"")
            out.write(decimal: plotBottom)
            out.write("\" stroke=\"#212529\" stroke-dasharray=\"3,3\"><title>")
            out.write(xml: "\(m.name): \(UTCTime.format(at)) — \(m.definedBy)")
            out.write("</title></line>\n")
        }
        out.write("</g>\n")

        // Marks: one per event, or (many events) one per bin and lane, darker for more.
        out.write("<g class=\"events\">\n")
        let binWidth = max(3, plotWidth / Double(PostmortemBuilder.binCount))
        let most = Double(pm.marks.map(\.count).max() ?? 1)
        for m in pm.marks {
            let y = laneTop(m.lane) + 5
            if m.count == 1 && m.eventID != 0 || pm.eventCount <= PostmortemBuilder.aggregateAbove {
                out.write("<rect class=\"mark\" data-event=\"")
                out.write(int: Int(m.eventID))
                out.write("\" data-kind=\"")
                out.write(xml: m.kind)
                out.write("\" x=\"")
                out.write(decimal: x(m.at) - 1.5)
                out.write("\" y=\"")
                out.write(decimal: y)
                out.write("\" width=\"3\" height=\"16\" fill=\"\(Self.markColor(m.lane))\"><title>")
            } else {
                let opacity = 0.25 + 0.75 * log(1 + Double(m.count)) / log(1 + most)
                out.write("<rect class=\"bin\" data-count=\"")
                out.write(int: m.count)
                out.write("\" x=\"")
                out.write(decimal: x(m.at) - binWidth / 2)
                out.write("\" y=\"")
                out.write(decimal: y)
                out.write("\" width=\"")
                out.write(decimal: binWidth)
                out.write("\" height=\"16\" fill=\"\(Self.markColor(m.lane))\" fill-opacity=\"")
                out.write(decimal: opacity)
                out.write("\"><title>")
            }
            out.write(xml: m.title)
            out.write("</title></rect>\n")
        }
        out.write("</g>\n")

        // Labels, readable without tooltips (a PNG, a forge), never overlapping.
        out.write("<g class=\"labels\">\n")
        for l in labels {
            let ty = top + Double(l.row) * Self.rowHeight + 9
            let y2 = l.laneY.map { plotTop + $0 * laneHeight + 5 } ?? plotTop
            out.write("<line x1=\"")
            out.write(decimal: l.x)
            out.write("\" x2=\"")
            out.write(decimal: l.x)
            out.write("\" y1=\"")
            out.write(decimal: ty + 2)
            out.write("\" y2=\"")
            out.write(decimal: y2)
            out.write("\" stroke=\"#adb5bd\" stroke-width=\"0.5\"/>\n<text class=\"label\" x=\"")
            out.write(decimal: l.x0)
            out.write("\" y=\"")
            out.write(decimal: ty)
            out.write("\" font-size=\"10\"" + (l.bold ? " font-weight=\"bold\"" : "") + " fill=\"#212529\">")
            out.write(xml: l.text)
            out.write("</text>\n")
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
