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
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        error = parseError
    }
}
