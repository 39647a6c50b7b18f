import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses an SVG with Foundation's XMLParser and counts what the tests look for.
final class SVGChecker: NSObject, XMLParserDelegate {
    private(set) var marks: [String] = []          // data-event of each mark
    private(set) var markKinds: [String: Int] = [:]
    private(set) var phases: [String] = []         // data-status of each band
    private(set) var rootName: String?
    private(set) var binTotal = 0                   // events counted by aggregated bins
    private(set) var lanes: [String] = []          // lane names, top to bottom
    private(set) var labels: [(text: String, x: Double, y: Double)] = []
    private var inText: String?
    private var textX = 0.0, textY = 0.0, textBuffer = ""
    private(set) var error: Error?

    static func parse(_ text: String) -> SVGChecker {
        let checker = SVGChecker()
        // A stream is fed to libxml2 in chunks; one 20 MB chunk trips its "huge input" guard.
        let parser = XMLParser(stream: InputStream(data: Data(text.utf8)))
        parser.delegate = checker
        if !parser.parse() {
            checker.error = parser.parserError ?? NSError(domain: "SVGChecker", code: 1)
        }
        return checker
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
                attributes attributeDict: [String: String] = [:]) {
        if rootName == nil { rootName = elementName }
        if let id = attributeDict["data-event"] {
            marks.append(id)
            markKinds[attributeDict["data-kind"] ?? "", default: 0] += 1
        }
        if attributeDict["class"] == "phase", let status = attributeDict["data-status"] {
            phases.append(status)
        }
        if attributeDict["class"] == "bin", let n = attributeDict["data-count"].flatMap(Int.init) { binTotal += n }
        if elementName == "text", let c = attributeDict["class"], c == "lane" || c == "label" {
            inText = c
            textX = Double(attributeDict["x"] ?? "") ?? 0
            textY = Double(attributeDict["y"] ?? "") ?? 0
            textBuffer = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText != nil { textBuffer += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard elementName == "text", let c = inText else { return }
        if c == "lane" { lanes.append(textBuffer) } else { labels.append((textBuffer, textX, textY)) }
        inText = nil
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        error = parseError
    }
}
