import Foundation
import TriageStore

extension FollowedAlert {
    /// Restores an alert from its store row (labels that do not decode become empty).
    public init(record r: AlertStateRecord) {
        let decoder = JSONDecoder()
        let labels = (try? decoder.decode(LabelSet.self, from: Data(r.labels.utf8))) ?? [:]
        let annotations = (try? decoder.decode(LabelSet.self, from: Data(r.annotations.utf8))) ?? [:]
        self.init(fingerprint: r.fingerprint, labels: labels, annotations: annotations, generatorURL: r.generatorURL,
                  startsAt: r.startsAt, firstSeen: r.firstSeen, lastSeen: r.lastSeen, missedPolls: r.missedPolls,
                  status: r.status == .firing ? .firing : .resolved, resolvedAt: r.resolvedAt, announced: r.announced,
                  platform: r.platform, room: r.room, messageKey: r.messageKey, incidentID: r.incidentID,
                  openedIncident: r.openedIncident)
    }

    /// The store row.
    public var record: AlertStateRecord {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let labelsJSON = (try? encoder.encode(labels)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let annotationsJSON = (try? encoder.encode(annotations)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return AlertStateRecord(fingerprint: fingerprint, alertname: alertname, labels: labelsJSON, annotations: annotationsJSON,
                                generatorURL: generatorURL, startsAt: startsAt, firstSeen: firstSeen, lastSeen: lastSeen,
                                missedPolls: missedPolls, status: status == .firing ? .firing : .resolved, resolvedAt: resolvedAt,
                                announced: announced, platform: platform, room: room, messageKey: messageKey,
                                incidentID: incidentID, openedIncident: openedIncident)
    }
}
