import Foundation
import Testing
import TriageCore
import TriageStore
@testable import TriagePaging

/// The providers' request bodies follow their documented wire formats field by field, and
/// their answers are read without trapping whatever they hold.
@Suite struct ProviderWireFormatTests {
    static let at = Date(timeIntervalSince1970: 1_773_478_800)   // 2026-03-14 09:00:00 UTC

    static func context(_ action: PageAction, recipients: [PagingPerson] = [PagingPerson(name: "alice", email: "alice@example.com")],
                        incident: Int64? = 12, actor: String? = nil) -> PageDeliveryContext {
        var page = PageRecord(incidentID: incident, platform: "console", room: "ops", policyName: "db", policy: "{}",
                              summary: "replication lag", severity: "sev1", openedBy: "@bob", createdAt: at, auto: true)
        page.id = 3
        let delivery = PageDelivery(pageID: 3, provider: "p", action: action.rawValue, dedupKey: "triage-12#2", level: 1, round: 0,
                                    recipients: "[]", createdAt: at)
        return PageDeliveryContext(page: page, delivery: delivery, recipients: recipients, actor: actor, at: at.addingTimeInterval(60))
    }

    static func object(_ request: HTTPRequest) throws -> [String: Any] {
        let body = try #require(request.body)
        return try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    @Test func pagerDutyTriggerIsAnEventsAPIv2Event() throws {
        let p = PagerDutyProvider(routingKey: "R0UTING", baseURL: "http://127.0.0.1:9/")
        let r = try p.request(for: Self.context(.trigger, recipients: [PagingPerson(name: "alice", pagerdutyID: "PABC123")]))
        #expect(r.url == "http://127.0.0.1:9/v2/enqueue")
        #expect(r.method == "POST")
        let o = try Self.object(r)
        #expect(Set(o.keys) == ["routing_key", "event_action", "dedup_key", "payload", "client"])
        #expect(o["routing_key"] as? String == "R0UTING")
        #expect(o["event_action"] as? String == "trigger")
        #expect(o["dedup_key"] as? String == "triage-12")   // the stored key up to its '#'
        let payload = try #require(o["payload"] as? [String: Any])
        #expect(Set(payload.keys) == ["summary", "source", "severity", "timestamp", "component", "custom_details"])
        #expect(payload["summary"] as? String == "Incident #12 sev1: replication lag")
        #expect(payload["severity"] as? String == "critical")
        #expect(payload["timestamp"] as? String == "2026-03-14T09:01:00Z")
        let details = try #require(payload["custom_details"] as? [String: Any])
        #expect(details["page"] as? Int == 3)
        #expect(details["level"] as? Int == 2)
        #expect(details["round"] as? Int == 1)
        #expect(details["incident"] as? Int == 12)
        #expect(details["recipients"] as? [String] == ["@alice"])
        #expect(details["pagerduty_users"] as? [String] == ["PABC123"])
    }

    @Test func pagerDutyAcknowledgeAndResolveCarryNoPayload() throws {
        let p = PagerDutyProvider(routingKey: "R", baseURL: "http://127.0.0.1:9")
        for action in [PageAction.acknowledge, .resolve] {
            let o = try Self.object(try p.request(for: Self.context(action)))
            #expect(Set(o.keys) == ["routing_key", "event_action", "dedup_key"])
            #expect(o["event_action"] as? String == action.rawValue)
        }
        // No ids, no incident: the optional details are left out, not null.
        let o = try Self.object(try p.request(for: Self.context(.trigger, incident: nil)))
        let details = try #require((o["payload"] as? [String: Any])?["custom_details"] as? [String: Any])
        #expect(details["incident"] == nil && details["pagerduty_users"] == nil)
    }

    @Test func opsgenieCreateAcknowledgeAndCloseFollowTheAlertAPI() throws {
        let p = OpsgenieProvider(apiKey: "K3Y", baseURL: "http://127.0.0.1:9")
        let create = try p.request(for: Self.context(.trigger, recipients: [PagingPerson(name: "alice", opsgenieID: "u-1"),
                                                                           PagingPerson(name: "bob", email: "bob@example.com")]))
        #expect(create.url == "http://127.0.0.1:9/v2/alerts")
        #expect(create.headers.contains { $0.0 == "Authorization" && $0.1 == "GenieKey K3Y" })
        let o = try Self.object(create)
        #expect(Set(o.keys) == ["message", "alias", "description", "responders", "priority", "details", "source", "tags"])
        #expect(o["alias"] as? String == "triage-12")
        #expect(o["priority"] as? String == "P1")
        let responders = try #require(o["responders"] as? [[String: String]])
        #expect(responders == [["type": "user", "id": "u-1"], ["type": "user", "username": "bob@example.com"]])
        #expect((o["details"] as? [String: String])?["incident"] == "12")
        #expect(o["tags"] as? [String] == ["triage", "sev1"])

        let ack = try p.request(for: Self.context(.acknowledge, actor: "@carol"))
        #expect(ack.url == "http://127.0.0.1:9/v2/alerts/triage-12/acknowledge?identifierType=alias")
        #expect(try Self.object(ack) as NSDictionary == ["user": "@carol", "source": "Triage", "note": "Acknowledged in Triage"])
        let close = try p.request(for: Self.context(.resolve))
        #expect(close.url.hasSuffix("/v2/alerts/triage-12/close?identifierType=alias"))
        #expect(try Self.object(close)["note"] as? String == "Resolved in Triage")
    }

    @Test func webhookIsAnAlertmanagerNotification() throws {
        let p = AlertmanagerWebhookProvider(url: "http://127.0.0.1:9/hook", receiver: "ops", externalURL: "http://triage")
        for (action, status) in [(PageAction.trigger, "firing"), (.acknowledge, "acknowledged"), (.resolve, "resolved")] {
            let o = try Self.object(try p.request(for: Self.context(action, actor: "@alice")))
            #expect(Set(o.keys) == ["version", "status", "receiver", "groupKey", "truncatedAlerts", "groupLabels", "commonLabels",
                                    "commonAnnotations", "externalURL", "alerts"])
            #expect(o["version"] as? String == "4")
            #expect(o["status"] as? String == status)
            #expect(o["groupKey"] as? String == "triage-12")
            #expect(o["truncatedAlerts"] as? Int == 0)
            let alert = try #require((o["alerts"] as? [[String: Any]])?.first)
            #expect(Set(alert.keys) == ["status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"])
            #expect(alert["startsAt"] as? String == "2026-03-14T09:00:00Z")
            #expect(alert["endsAt"] as? String == (action == .resolve ? "2026-03-14T09:01:00Z" : "0001-01-01T00:00:00Z"))
            #expect((alert["fingerprint"] as? String)?.count == 16)
            #expect(((alert["annotations"] as? [String: String])?["acknowledged_by"] == "@alice") == (action == .acknowledge))
        }
    }

    static func response(_ status: Int, _ json: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [:], body: Data(json.utf8))
    }

    @Test func answersOfAnyShapeAreReadWithoutTrapping() throws {
        let pd = PagerDutyProvider(routingKey: "R", baseURL: "http://127.0.0.1:9", apiToken: "T")
        let og = OpsgenieProvider(apiKey: "K", baseURL: "http://127.0.0.1:9")
        let since = Self.at
        // Documented answers.
        let acked = try pd.acknowledgement(from: Self.response(200, """
            {"incidents": [{"status": "acknowledged", "created_at": "2026-03-14T09:00:30Z",
              "acknowledgements": [{"at": "2026-03-14T09:02:00Z", "acknowledger": {"id": "PX", "summary": "Alice"}}]}]}
            """), since: since)
        #expect(acked == ProviderAcknowledgement(userID: "PX", name: "Alice", at: Date(timeIntervalSince1970: 1_773_478_920)))
        let closed = try og.acknowledgement(from: Self.response(200, """
            {"data": {"createdAt": "2026-03-14T09:00:30.5Z", "acknowledged": false, "status": "closed",
              "report": {"closeTime": 1500, "closedBy": "bob"}}}
            """), since: since)
        #expect(closed?.name == "bob")
        #expect(closed?.at == Date(timeIntervalSince1970: 1_773_478_832))
        // Hostile ones: wrong types, missing lists, absurd numbers, not JSON.
        #expect(throws: TriageError.self) { try pd.acknowledgement(from: Self.response(200, #"{"incidents": "none"}"#), since: since) }
        #expect(throws: TriageError.self) { try pd.acknowledgement(from: Self.response(200, "not json"), since: since) }
        #expect(try pd.acknowledgement(from: Self.response(200, #"{"incidents": [{}]}"#), since: since) == nil)
        #expect(throws: TriageError.self) { try og.acknowledgement(from: Self.response(200, #"{"data": {"acknowledged": "yes"}}"#), since: since) }
        let absurd = try og.acknowledgement(from: Self.response(200, """
            {"data": {"createdAt": "2026-03-14T09:00:30Z", "acknowledged": true, "report": {"ackTime": -5}}}
            """), since: since)
        #expect(absurd == ProviderAcknowledgement(name: nil, at: nil))
        #expect(try og.acknowledgement(from: Self.response(404, "{}"), since: since) == nil)
        // Error bodies: PagerDuty's list, Opsgenie's map, and a shape neither documents.
        #expect(PagerDutyProvider.bodyHint(Self.response(400, #"{"status": "invalid event", "message": "Event object is invalid", "errors": ["Length of 'routing_key' is incorrect"]}"#))
                == " (Event object is invalid: Length of 'routing_key' is incorrect)")
        #expect(OpsgenieProvider.bodyHint(Self.response(422, #"{"message": "Request body is not processable", "errors": {"message": "Message can not be empty."}}"#))
                == " (Request body is not processable: message: Message can not be empty.)")
        #expect(OpsgenieProvider.bodyHint(Self.response(500, #"{"message": "down", "errors": [1, {"x": 2}]}"#)) == " (down)")
        #expect(OpsgenieProvider.bodyHint(Self.response(500, "<html>")) == "")
    }
}
