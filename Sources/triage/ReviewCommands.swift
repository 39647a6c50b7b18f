import ArgumentParser
import Foundation
import TriageHandlers
import TriageIncidents
import TriageCore
import TriageRuntime
import TriageStore

struct IncidentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "incidents", abstract: "List incidents from the timeline store.")

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Only incidents that are not resolved.")
    var active = false

    func run() throws {
        let config = try options.load(needsSecrets: false)
        let store = try BotStore(path: config.timelinePath)
        let incidents = try store.readNow { tx in try tx.incidents(activeOnly: active, limit: 1000) }
        let now = Date()
        let rows = incidents.map { i in
            [ReplyCell("#\(i.id!)"), ReplyCell(i.severity.rawValue), ReplyCell(i.status.rawValue),
             ReplyCell(UTCTime.format(i.openedAt)), ReplyCell(DurationFormatter.format(seconds: i.end(now: now).timeIntervalSince(i.openedAt))),
             ReplyCell(i.commander ?? "-"), ReplyCell(i.platform + ":" + i.room), ReplyCell(i.title)]
        }
        let reply = Reply(blocks: [.table(ReplyTable(columns: ["id", "sev", "status", "opened (UTC)", "duration", "commander", "room", "title"],
                                                     rows: rows, emptyText: "No incidents in \(config.timelinePath)."))])
        print(TextRenderer().render(reply))
    }
}

struct TimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "timeline", abstract: "Print one incident's timeline.")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "Incident id (as listed by `triage incidents`).")
    var id: Int64

    @Flag(help: "Include each command's full output.")
    var full = false

    func run() throws {
        let config = try options.load(needsSecrets: false)
        let store = try BotStore(path: config.timelinePath)
        let found: (Incident, [TimelineEvent])? = try store.readNow { tx in
            guard let i = try tx.incident(id: id) else { return nil }
            return (i, try tx.events(incident: id))
        }
        guard let (incident, events) = found else {
            FileHandle.standardError.write(Data("No incident #\(id) in \(config.timelinePath).\n".utf8))
            throw ExitCode(1)
        }
        print(TextRenderer(maxCellWidth: 200).render(TimelineReply.make(incident: incident, events: events)))
        if full {
            for e in events where e.output != nil {
                print("\n--- \(UTCTime.format(e.at)) \(e.actor): \(e.command ?? e.text)\n\(e.output!)")
            }
        }
    }
}
