import ArgumentParser
import Foundation
import TriageHandlers
import TriageIncidents
import TriageCore
import TriageStore

/// Synchronous on purpose: it reads SQLite and writes files, which must not run on the
/// cooperative pool.
struct PostmortemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postmortem",
        abstract: "Write an incident's postmortem: Markdown with an SVG timeline beside it, HTML (self-contained), or JSON.",
        discussion: """
            Without -o the file goes to the postmortems directory of the config (default: postmortems/), \
            named incident-ID.md, incident-ID.html or incident-ID.json. -o - prints to standard output \
            (Markdown without the picture; HTML with it inline).
            """)

    @OptionGroup var options: ConfigOptions

    @Argument(help: "Incident id (as listed by `triage incidents`).")
    var id: Int64

    @Option(help: "markdown, html or json.")
    var format: String = "markdown"

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output file, or - for standard output.")
    var output: String?

    func run() throws {
        guard let fmt = PostmortemWriter.Format(rawValue: format.lowercased()) else {
            throw ValidationError("--format must be markdown, html or json")
        }
        let config = try options.load(needsSecrets: false)
        let settings = try config.postmortemSettings()
        let store = try BotStore(path: config.timelinePath)
        let writer = PostmortemWriter(store: store, directory: settings.directory)
        do {
            // One pass over the events: the summary and the document are made together.
            let (incident, source) = try writer.sourceNow(incident: id)
            let path = output ?? (settings.directory as NSString).appendingPathComponent("incident-\(id).\(fmt.fileExtension)")
            for file in try writer.write(incident: incident, source: source, generatedAt: Date(), format: fmt, to: path) {
                print("\(file.path)  \(file.what)")
            }
        } catch let e as TriageError {
            FileHandle.standardError.write(Data("\(e.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
