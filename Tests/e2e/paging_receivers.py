#!/usr/bin/env python3
"""Local stand-ins for the paging providers, on 127.0.0.1, following their wire formats
(see PROTOCOLS.md): PagerDuty Events API v2 (POST /v2/enqueue) and the part of its REST API v2
that lists incidents (GET /incidents?incident_key=K, `Authorization: Token token=T`), Opsgenie
Alert API v2 (create, acknowledge, close, and GET /v2/alerts/{identifier}?identifierType=alias),
and an Alertmanager-shaped webhook receiver (status firing, acknowledged or resolved). Alerts
de-duplicate as the providers document: a trigger (create) with the key of an open incident
(alert) updates it; after a resolve (close) the same key opens a new one. Failures (429/5xx)
can be injected; every request is recorded.

  paging_receivers.py [--port N | --port-range 58300-58399] [--pagerduty-key K] [--opsgenie-key K]
                      [--pagerduty-token T]

Prints "PORT <n>" on its first line of output once it listens.

Control API (JSON): GET /_control/requests, GET /_control/state (PagerDuty and Opsgenie state by
key, and the incidents/alerts as their APIs show them), POST /_control/fail {"service":
"pagerduty|opsgenie|webhook", "status": 503, "count": N (-1: until cleared), "retry_after": S},
POST /_control/clear, POST /_control/reset, and acknowledgements made "in the provider's app":
POST /_control/pagerduty/acknowledge {"dedup_key", "user_id", "name"},
POST /_control/opsgenie/acknowledge {"alias", "user"}.
"""
import argparse
import datetime
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs, unquote

LOCK = threading.Lock()
REQUESTS = []        # every request, in order
FAILURES = {}        # service -> {"status", "count", "retry_after"}
PD_STATE = {}        # dedup_key -> "triggered" | "acknowledged" | "resolved"
OG_STATE = {}        # alias -> "open" | "acknowledged" | "closed"
PD_INCIDENTS = []    # REST API incident objects, oldest first
OG_ALERTS = []       # Alert API alert objects, oldest first
ARGS = None

PD_SEVERITIES = {"critical", "error", "warning", "info"}
OG_RESPONDER_TYPES = {"team", "user", "escalation", "schedule"}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pd_open_incident(key):
    """The open (triggered or acknowledged) incident for a dedup key, under LOCK."""
    for inc in reversed(PD_INCIDENTS):
        if inc["incident_key"] == key and inc["status"] != "resolved":
            return inc
    return None


def pd_event(key, action, summary=None, by=None):
    """Applies an event (or an acknowledgement in the app) to the incidents, under LOCK."""
    inc = pd_open_incident(key)
    if action == "trigger":
        if inc is None:
            n = len(PD_INCIDENTS) + 1
            inc = {"id": "Q%05dTRIAGE" % n, "type": "incident", "incident_number": n, "incident_key": key,
                   "title": summary or key, "summary": "[#%d] %s" % (n, summary or key), "status": "triggered",
                   "created_at": now_iso(), "last_status_change_at": now_iso(), "acknowledgements": [], "alert_counts": {"all": 0}}
            PD_INCIDENTS.append(inc)
        inc["alert_counts"]["all"] += 1
    elif inc is not None and action == "acknowledge":
        if inc["status"] == "triggered":
            inc["status"] = "acknowledged"
            inc["last_status_change_at"] = now_iso()
        inc["acknowledgements"].append({"at": now_iso(), "acknowledger": by or {"id": "PTRIAGE", "type": "service_reference", "summary": "Triage"}})
    elif inc is not None and action == "resolve":
        inc["status"] = "resolved"
        inc["last_status_change_at"] = now_iso()
        inc["resolved_by"] = by or {"id": "PTRIAGE", "type": "service_reference", "summary": "Triage"}


def og_alert(alias):
    """The newest alert with an alias (the open one when there is one), under LOCK."""
    found = [a for a in OG_ALERTS if a["alias"] == alias]
    open_ = [a for a in found if a["status"] == "open"]
    return (open_ or found or [None])[-1]


def iso(ts):
    try:
        datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
        return True
    except (ValueError, AttributeError):
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def record(self, service, status, raw, parsed, injected=False):
        with LOCK:
            REQUESTS.append({
                "service": service, "method": self.command, "path": urlsplit(self.path).path,
                "query": urlsplit(self.path).query, "status": status, "injected": injected,
                "body": parsed if parsed is not None else raw.decode("utf-8", "replace"),
                "authorization": self.headers.get("Authorization"),
            })

    def injected(self, service, raw, parsed):
        with LOCK:
            f = FAILURES.get(service)
            if not f or f["count"] == 0:
                return False
            if f["count"] > 0:
                f["count"] -= 1
            status, retry_after = f["status"], f.get("retry_after")
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if service == "pagerduty":
            body = ({"status": "throttle event", "message": "Requests for this service are arriving too quickly.  Please retry later."}
                    if status == 429 else {"status": "error", "message": "Internal server error"})
        elif service == "opsgenie":
            body = {"message": "Too many requests" if status == 429 else "Internal Server Error", "took": 0.0, "requestId": str(uuid.uuid4())}
        else:
            body = {"error": "unavailable"}
        self.record(service, status, raw, parsed, injected=True)
        self.reply(status, body, headers)
        return True

    # -- control ---------------------------------------------------------------------------

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/_control/requests":
            with LOCK:
                return self.reply(200, list(REQUESTS))
        if path == "/_control/state":
            with LOCK:
                return self.reply(200, {"pagerduty": dict(PD_STATE), "opsgenie": dict(OG_STATE),
                                        "pagerduty_incidents": list(PD_INCIDENTS), "opsgenie_alerts": list(OG_ALERTS)})
        if path == "/incidents":
            return self.pagerduty_incidents()
        m = re.fullmatch(r"/v2/alerts/([^/]+)", path)
        if m:
            return self.opsgenie_get(unquote(m.group(1)))
        self.reply(404, {"message": "not found"})

    # -- PagerDuty REST API v2: list incidents -----------------------------------------------

    def pagerduty_incidents(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Token token=") or (ARGS.pagerduty_token and auth[len("Token token="):] != ARGS.pagerduty_token):
            self.record("pagerduty-rest", 401, b"", None)
            return self.reply(401, {"error": {"message": "Authentication required", "code": 2006}})
        if "application/vnd.pagerduty+json;version=2" not in (self.headers.get("Accept") or ""):
            self.record("pagerduty-rest", 406, b"", None)
            return self.reply(406, {"error": {"message": "Not Acceptable: expected Accept: application/vnd.pagerduty+json;version=2", "code": 2001}})
        if self.injected("pagerduty-rest", b"", None):
            return
        q = parse_qs(urlsplit(self.path).query)
        keys = q.get("incident_key")
        statuses = q.get("statuses[]")
        with LOCK:
            found = [dict(i) for i in PD_INCIDENTS if (not keys or i["incident_key"] in keys) and (not statuses or i["status"] in statuses)]
        self.record("pagerduty-rest", 200, b"", None)
        self.reply(200, {"incidents": found, "limit": 25, "offset": 0, "total": None, "more": False})

    # -- Opsgenie Alert API v2: get alert ----------------------------------------------------

    def opsgenie_get(self, ident):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("GenieKey ") or (ARGS.opsgenie_key and auth[len("GenieKey "):] != ARGS.opsgenie_key):
            self.record("opsgenie-get", 401, b"", None)
            return self.reply(401, {"message": "Could not authenticate", "took": 0.0, "requestId": str(uuid.uuid4())})
        if self.injected("opsgenie-get", b"", None):
            return
        id_type = (parse_qs(urlsplit(self.path).query).get("identifierType") or ["id"])[0]
        with LOCK:
            if id_type == "alias":
                alert = og_alert(ident)
            else:
                alert = next((a for a in OG_ALERTS if a["id" if id_type == "id" else "tinyId"] == ident), None)
            alert = dict(alert) if alert else None
        if alert is None:
            self.record("opsgenie-get", 404, b"", None)
            return self.reply(404, {"message": "Alert with %s [%s] does not exist" % (id_type, ident), "took": 0.0,
                                    "requestId": str(uuid.uuid4())})
        self.record("opsgenie-get", 200, b"", None)
        self.reply(200, {"data": alert, "took": 0.003, "requestId": str(uuid.uuid4())})

    def do_POST(self):
        path = urlsplit(self.path).path
        raw = self.read_body()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        if path.startswith("/_control/"):
            return self.control(path, parsed or {})
        if path == "/v2/enqueue":
            return self.pagerduty(raw, parsed)
        if path.startswith("/v2/alerts"):
            return self.opsgenie(path, raw, parsed)
        if path.startswith("/webhook"):
            return self.webhook(raw, parsed)
        self.reply(404, {"message": "not found"})

    def control(self, path, body):
        with LOCK:
            if path == "/_control/fail":
                FAILURES[body["service"]] = {"status": int(body.get("status", 503)), "count": int(body.get("count", -1)),
                                             "retry_after": body.get("retry_after")}
            elif path == "/_control/clear":
                FAILURES.clear()
            elif path == "/_control/reset":
                FAILURES.clear()
                REQUESTS.clear()
                PD_STATE.clear()
                OG_STATE.clear()
                PD_INCIDENTS.clear()
                OG_ALERTS.clear()
            elif path == "/_control/pagerduty/acknowledge":
                key = body["dedup_key"]
                if pd_open_incident(key) is None:
                    return self.reply(404, {"message": "no open incident for " + key})
                pd_event(key, "acknowledge", by={"id": body.get("user_id", "PUSER01"), "type": "user_reference",
                                                   "summary": body.get("name", "Someone")})
                PD_STATE[key] = "acknowledged"
            elif path == "/_control/opsgenie/acknowledge":
                alert = og_alert(body["alias"])
                if alert is None or alert["status"] != "open":
                    return self.reply(404, {"message": "no open alert for " + body["alias"]})
                alert["acknowledged"] = True
                alert["report"]["ackTime"] = 1500
                alert["report"]["acknowledgedBy"] = body.get("user", "someone@example.com")
                OG_STATE[body["alias"]] = "acknowledged"
            else:
                return self.reply(404, {"message": "unknown control"})
        self.reply(200, {"ok": True})

    # -- PagerDuty Events API v2 -------------------------------------------------------------

    def pagerduty(self, raw, body):
        if self.injected("pagerduty", raw, body):
            return
        errors = []
        if not isinstance(body, dict):
            errors.append("Event object is not valid JSON")
        else:
            key = body.get("routing_key")
            if not isinstance(key, str) or not key:
                errors.append("'routing_key' is missing or blank")
            elif ARGS.pagerduty_key and key != ARGS.pagerduty_key:
                errors.append("Invalid routing key")
            action = body.get("event_action")
            if action not in ("trigger", "acknowledge", "resolve"):
                errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
            dedup = body.get("dedup_key")
            if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
                errors.append("'dedup_key' must be a string of at most 255 characters")
            if action in ("acknowledge", "resolve") and not dedup:
                errors.append("'dedup_key' is required for acknowledge and resolve")
            if action == "trigger":
                p = body.get("payload")
                if not isinstance(p, dict):
                    errors.append("'payload' is missing or not an object")
                else:
                    s = p.get("summary")
                    if not isinstance(s, str) or not s or len(s) > 1024:
                        errors.append("'payload.summary' is missing, blank or longer than 1024 characters")
                    if not isinstance(p.get("source"), str) or not p.get("source"):
                        errors.append("'payload.source' is missing or blank")
                    if p.get("severity") not in PD_SEVERITIES:
                        errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
                    if "timestamp" in p and not iso(p["timestamp"]):
                        errors.append("'payload.timestamp' is not a valid ISO 8601 time")
                    if "custom_details" in p and not isinstance(p["custom_details"], dict):
                        errors.append("'payload.custom_details' must be an object")
        if errors:
            self.record("pagerduty", 400, raw, body)
            return self.reply(400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})
        dedup = body.get("dedup_key") or uuid.uuid4().hex
        with LOCK:
            state = {"trigger": "triggered", "acknowledge": "acknowledged", "resolve": "resolved"}[body["event_action"]]
            if not (state == "triggered" and PD_STATE.get(dedup) in ("acknowledged",)):
                PD_STATE[dedup] = state
            summary = (body.get("payload") or {}).get("summary")
            pd_event(dedup, body["event_action"], summary=summary)
        self.record("pagerduty", 202, raw, body)
        self.reply(202, {"status": "success", "message": "Event processed", "dedup_key": dedup})

    # -- Opsgenie Alert API v2 ---------------------------------------------------------------

    def opsgenie(self, path, raw, body):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("GenieKey ") or (ARGS.opsgenie_key and auth[len("GenieKey "):] != ARGS.opsgenie_key):
            self.record("opsgenie", 401, raw, body)
            return self.reply(401, {"message": "Could not authenticate", "took": 0.0, "requestId": str(uuid.uuid4())})
        if self.injected("opsgenie", raw, body):
            return
        ok = {"result": "Request will be processed", "took": 0.01, "requestId": str(uuid.uuid4())}
        if raw and body is None:
            self.record("opsgenie", 400, raw, None)
            return self.reply(400, {"message": "Could not parse request body", "took": 0.0, "requestId": str(uuid.uuid4())})
        m = re.fullmatch(r"/v2/alerts/([^/]+)/(acknowledge|close)", path)
        if path == "/v2/alerts":
            errors = {}
            b = body if isinstance(body, dict) else {}
            msg = b.get("message")
            if not isinstance(msg, str) or not msg.strip():
                errors["message"] = "Message can not be empty."
            elif len(msg) > 130:
                errors["message"] = "Message can not be longer than 130 characters."
            if "alias" in b and (not isinstance(b["alias"], str) or len(b["alias"]) > 512):
                errors["alias"] = "Alias can not be longer than 512 characters."
            if "description" in b and (not isinstance(b["description"], str) or len(b["description"]) > 15000):
                errors["description"] = "Description can not be longer than 15000 characters."
            if "priority" in b and b["priority"] not in ("P1", "P2", "P3", "P4", "P5"):
                errors["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]"
            for i, r in enumerate(b.get("responders") or []):
                if not isinstance(r, dict) or r.get("type") not in OG_RESPONDER_TYPES or not any(r.get(k) for k in ("id", "name", "username")):
                    errors["responders[%d]" % i] = "Responder must have a type and one of id, name or username."
            if "details" in b and (not isinstance(b["details"], dict) or not all(isinstance(v, str) for v in b["details"].values())):
                errors["details"] = "Details must be a map of strings."
            if errors:
                self.record("opsgenie", 422, raw, body)
                return self.reply(422, {"message": "Request body is not processable. Please check the errors.",
                                        "errors": errors, "took": 0.0, "requestId": str(uuid.uuid4())})
            with LOCK:
                alias = b.get("alias") or uuid.uuid4().hex
                OG_STATE[alias] = "open" if OG_STATE.get(alias) != "acknowledged" else "acknowledged"
                existing = og_alert(alias)
                if existing is not None and existing["status"] == "open":
                    existing["count"] += 1      # de-duplicated into the open alert
                    existing["lastOccurredAt"] = now_iso()
                else:
                    n = len(OG_ALERTS) + 1
                    OG_ALERTS.append({"id": str(uuid.uuid4()), "tinyId": str(n), "alias": alias, "message": msg, "status": "open",
                                      "acknowledged": False, "isSeen": False, "count": 1, "createdAt": now_iso(),
                                      "lastOccurredAt": now_iso(), "updatedAt": now_iso(), "priority": b.get("priority", "P3"),
                                      "report": {}})
                    OG_STATE[alias] = "open"
            self.record("opsgenie", 202, raw, body)
            return self.reply(202, ok)
        if m:
            q = parse_qs(urlsplit(self.path).query)
            id_type = (q.get("identifierType") or ["id"])[0]
            if id_type not in ("id", "alias", "tiny"):
                self.record("opsgenie", 422, raw, body)
                return self.reply(422, {"message": "Invalid identifierType", "took": 0.0, "requestId": str(uuid.uuid4())})
            b = body if isinstance(body, dict) else {}
            for k, limit in (("user", 100), ("source", 100), ("note", 25000)):
                if k in b and (not isinstance(b[k], str) or len(b[k]) > limit):
                    self.record("opsgenie", 422, raw, body)
                    return self.reply(422, {"message": "Request body is not processable.", "errors": {k: "too long"},
                                            "took": 0.0, "requestId": str(uuid.uuid4())})
            ident = unquote(m.group(1))
            with LOCK:
                if id_type == "alias" and ident in OG_STATE:
                    OG_STATE[ident] = "acknowledged" if m.group(2) == "acknowledge" else "closed"
                alert = og_alert(ident) if id_type == "alias" else None
                if alert is not None and alert["status"] == "open":
                    if m.group(2) == "acknowledge" and not alert["acknowledged"]:
                        alert["acknowledged"] = True
                        alert["report"].update({"ackTime": 1000, "acknowledgedBy": b.get("user", "Triage")})
                    elif m.group(2) == "close":
                        alert["status"] = "closed"
                        alert["report"].update({"closeTime": 2000, "closedBy": b.get("user", "Triage")})
            self.record("opsgenie", 202, raw, body)
            return self.reply(202, ok)
        self.record("opsgenie", 404, raw, body)
        self.reply(404, {"message": "not found"})

    # -- Alertmanager-shaped webhook ---------------------------------------------------------

    def webhook(self, raw, body):
        if self.injected("webhook", raw, body):
            return
        problems = []
        if not isinstance(body, dict):
            problems.append("body is not a JSON object")
        else:
            if body.get("version") != "4":
                problems.append("version must be \"4\"")
            if body.get("status") not in ("firing", "acknowledged", "resolved"):
                problems.append("status must be firing, acknowledged or resolved")
            for k in ("receiver", "groupKey"):
                if not isinstance(body.get(k), str):
                    problems.append(k + " must be a string")
            alerts = body.get("alerts")
            if not isinstance(alerts, list) or not alerts:
                problems.append("alerts must be a non-empty list")
            else:
                for a in alerts:
                    if not isinstance(a, dict) or a.get("status") not in ("firing", "acknowledged", "resolved") \
                            or not isinstance(a.get("labels"), dict) or not isinstance(a.get("annotations"), dict) \
                            or not iso(a.get("startsAt")) or not iso(a.get("endsAt")) or not isinstance(a.get("fingerprint"), str):
                        problems.append("alert needs status, labels, annotations, startsAt, endsAt, fingerprint")
                        break
        if problems:
            self.record("webhook", 400, raw, body)
            return self.reply(400, {"error": "; ".join(problems)})
        self.record("webhook", 200, raw, body)
        self.reply(200, {"status": "ok"})


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--port-range", default="58300-58399")
    ap.add_argument("--pagerduty-key")
    ap.add_argument("--opsgenie-key")
    ap.add_argument("--pagerduty-token", help="the REST API token GET /incidents accepts (any when not given)")
    ARGS = ap.parse_args()
    ports = [ARGS.port] if ARGS.port is not None else range(*(lambda a, b: (a, b + 1))(*map(int, ARGS.port_range.split("-"))))
    server = None
    for port in ports:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
            break
        except OSError:
            continue
    if server is None:
        print("ERROR no free port", flush=True)
        sys.exit(1)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
