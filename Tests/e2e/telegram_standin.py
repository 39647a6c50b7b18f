#!/usr/bin/env python3
"""A stand-in for the Telegram Bot API server (tdlib/telegram-bot-api), for Triage's tests.

Python standard library only. Binds 127.0.0.1. Implements getMe, getUpdates, sendMessage,
editMessageText, editMessageReplyMarkup, answerCallbackQuery, sendDocument, setMyCommands and
deleteWebhook with the real server's semantics:

* every reply is {"ok":true,"result":...} or {"ok":false,"error_code":N,"description":...,
  "parameters":{...}} with the HTTP status equal to error_code;
* getUpdates: updates with update_id < offset are confirmed (deleted) when the call arrives;
  an offset more than 10 past the next update id is "in the future" (tdlib's TQueue) and the
  server answers from the head of its queue instead, confirming nothing — which is what a bot
  sees when update ids start again lower (--first-update-id, or a new random start after a
  week without updates);
  with nothing pending the call is parked until an update arrives or the timeout (capped at 50 s)
  ends; a newer getUpdates call ends a parked one with 409 "terminated by other getUpdates
  request"; allowed_updates filters update types;
* sendMessage / editMessageText parse HTML like the real server (only the allowed tags, balanced,
  entities &lt; &gt; &amp; &quot; &#N;) and reject text longer than 4096 UTF-16 code units
  after parsing ("message is too long"); per-chat flood control (a burst of 3, then 1 message/s; groups also 20/minute)
  answers 429 with parameters.retry_after, "the number of seconds left to wait before the request can be
  repeated" (Bot API, ResponseParameters): a send to that chat before then gets 429 again, with the
  seconds still left, and is counted in state's "early_sends";
* inline keyboards: reply_markup {"inline_keyboard": [[{"text", "callback_data"}]]} is checked
  (callback_data 1-64 bytes, else 400 "BUTTON_DATA_INVALID") and kept with the message; a tap
  (injected by the test) arrives as update.callback_query {id, from, message (the message with
  its reply_markup; an InaccessibleMessage with date 0 when asked), chat_instance, data} and only
  when allowed_updates includes "callback_query" (or is not given);
* answerCallbackQuery: once per query, within --callback-timeout seconds of the tap, else 400
  "Bad Request: query is too old and response timeout expired or query ID is invalid"; text at
  most 200 characters;
* editMessageText / editMessageReplyMarkup: 400 "message to edit not found" for an unknown
  message, 400 "message is not modified: ..." when text and markup stay the same; an edit
  without reply_markup removes the inline keyboard;
* sendDocument: multipart/form-data with a file part "document" (caption at most 1024
  characters after parsing, 50 MB at most), answered with a Message holding a Document;
* wrong token: 401 Unauthorized.

The control API (/control/...) injects user messages and failures and reads what the bot sent:

  POST /control/message      {"chat_id", "from_id", "text", "chat_type"?, "username"?,
                              "entities"?}  -> {"update_id", "message_id"}
                              (bot_command entities are computed, offsets in UTF-16 units)
  POST /control/callback     {"chat_id", "message_id", "from_id", "data"? (default: the first
                              button's), "button"? (its label), "username"?, "inaccessible"?}
                              -> {"update_id", "callback_query_id"}
  GET  /control/answers            answerCallbackQuery calls received (answered or refused)
  GET  /control/message_state?chat_id=N&message_id=M   the message as it is now (text, markup)
  GET  /control/documents          documents the bot sent (content as text when UTF-8)
  POST /control/raw_update   {"update": any JSON value, "with_id": true}  -> {"update_id"}
  POST /control/duplicate    {"update_id"}  queue an exact copy of an update again
  POST /control/fail         {"method", "error_code", "description"?, "retry_after"?,
                              "migrate_to_chat_id"?, "count"?, "body"?, "status"?}
  POST /control/migrate      {"chat_id", "new_chat_id"}
  POST /control/delete       {"chat_id", "message_id"}   the message is deleted (edits: not found)
  POST /control/block        {"chat_id"}        POST /control/unblock {"chat_id"}
  POST /control/webhook      {"active": bool}
  POST /control/max_text     {"units"}  lower the length limit (a server that counts differently)
  POST /control/hang_polls   {"active": bool}   getUpdates calls neither answer nor close (a hung
                              connection); calls made while active stay hung for good
  POST /control/hold_sends   {"active": bool, "after"?: n}   park sendMessage calls (a call whose
                              client died while parked is dropped, as if it never arrived); with
                              "after", the next n calls go through and the ones after are parked
  POST /control/wait_sent    {"count", "chat_id"?, "timeout"?}  -> {"sent": [...]} (waits)
  GET  /control/sent[?chat_id=N]   messages the bot sent
  GET  /control/state              counters, pending updates, commands, calls
  GET  /control/timings            per-update times (for benchmarks)

Run: python3 telegram_standin.py --port 0 --token 123:abc   (prints "PORT n" when ready)
"""
import argparse
import email.parser
import email.policy
import json
import re
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
                "a", "code", "pre", "blockquote", "tg-emoji"}
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DOCUMENT = 50 * 1024 * 1024
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message")
COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,64})?")


class ApiError(Exception):
    def __init__(self, code, description, parameters=None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def parse_multipart(content_type, raw):
    """multipart/form-data fields: text parts as str, file parts as dicts (filename, content_type, data)."""
    if "boundary=" not in (content_type or ""):
        raise ApiError(400, "Bad Request: can't parse multipart/form-data: no boundary")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + raw)
    if not msg.is_multipart():
        raise ApiError(400, "Bad Request: can't parse multipart/form-data")
    out = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            out[name] = {"filename": filename, "content_type": part.get_content_type(), "data": data}
        else:
            out[name] = data.decode("utf-8", "replace")
    return out


def json_param(value, what):
    """A parameter sent as a JSON-serialized string (form and multipart bodies) or as JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse %s JSON object" % what)
    return value


def edit_target(params):
    try:
        return int(params.get("chat_id")), int(params.get("message_id"))
    except (TypeError, ValueError):
        raise ApiError(400, "Bad Request: message identifier is not specified")


def parse_markup(params):
    """The inline keyboard of a call (None when absent), checked like the real server."""
    markup = params.get("reply_markup")
    if markup is None or markup == "":
        return None
    markup = json_param(markup, "reply keyboard markup")
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
    for row in rows:
        for b in row:
            if not isinstance(b, dict) or not isinstance(b.get("text"), str) or not b["text"]:
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
            data = b.get("callback_data")
            if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    if not any(rows):
        return None
    return {"inline_keyboard": rows}


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def parse_html(text):
    """Returns the plain text of Telegram HTML, or raises ApiError like the real parser."""
    out = []
    stack = []
    i = 0
    data = text
    n = len(data)
    while i < n:
        ch = data[i]
        if ch == "<":
            offset = len(data[:i].encode("utf-8"))
            end = data.find(">", i)
            if end < 0:
                raise ApiError(400, "Bad Request: can't parse entities: Unclosed start tag at byte offset %d" % offset)
            inner = data[i + 1:end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise ApiError(400, "Bad Request: can't parse entities: Unexpected end tag at byte offset %d" % offset)
                if stack[-1] != name:
                    raise ApiError(400, "Bad Request: can't parse entities: Unmatched end tag at byte offset %d, "
                                        "expected \"</%s>\", found \"</%s>\"" % (offset, stack[-1], name))
                stack.pop()
            else:
                m = re.match(r"([A-Za-z0-9-]*)", inner)
                name = m.group(1).lower()
                if name not in ALLOWED_TAGS:
                    raise ApiError(400, "Bad Request: can't parse entities: Unsupported start tag \"%s\" at byte offset %d"
                                   % (name, offset))
                attrs = inner[len(name):]
                if name == "span" and "tg-spoiler" not in attrs:
                    raise ApiError(400, "Bad Request: can't parse entities: Tag \"span\" must have class \"tg-spoiler\" "
                                        "at byte offset %d" % offset)
                stack.append(name)
            i = end + 1
        elif ch == "&":
            m = re.match(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});", data[i:])
            if m:
                e = m.group(1)
                out.append({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(e) or
                           chr(int(e[2:], 16) if e.startswith("#x") else int(e[1:])))
                i += len(m.group(0))
            else:
                out.append("&")
                i += 1
        else:
            out.append(ch)
            i += 1
    if stack:
        raise ApiError(400, "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"%s\""
                       % stack[-1])
    return "".join(out)


class State:
    def __init__(self, token, username, chat_rate, chat_burst, group_per_minute, first_update_id=1000):
        self.token = token
        self.username = username
        self.lock = threading.Condition()
        self.next_update_id = first_update_id
        self.hang_polls = False
        self.max_text = MAX_TEXT     # lowered by /control/max_text to act as a server that counts differently
        self.first_message_id = 1    # message ids are Telegram's, kept by a restarted API server
        self.updates = []            # [(update_id, type, raw_json_text, key)]
        self.all_updates = {}        # update_id -> raw json text (for duplicates)
        self.confirmed_offset = 0
        self.poll_gen = 0
        self.webhook = False
        self.faults = []             # dicts; consumed in order per method
        self.migrated = {}           # chat_id -> new chat id
        self.blocked = set()
        self.sent = []               # messages the bot sent
        self.messages = {}           # (chat_id, message_id) -> dict (user and bot messages)
        self.next_message_id = {}    # chat_id -> int
        self.commands = None
        self.calls = {}
        self.errors_sent = {}
        self.proxied = 0
        self.buckets = {}            # chat_id -> [tokens, last_time]
        self.group_window = {}       # chat_id -> [times]
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.group_per_minute = group_per_minute
        self.timings = {}            # update_id -> {"available", "delivered", "replied", "chat", "msg"}
        self.by_message = {}         # (chat_id, message_id) -> update_id
        self.hold_sends = False      # park sendMessage calls until released
        self.callback_timeout = 15.0 # seconds a callback query can be answered
        self.queries = {}            # callback query id -> {"at", "answered", "from_id"}
        self.answers = []            # answerCallbackQuery calls
        self.documents = []          # documents the bot sent
        self.next_query = 0
        self.allowed_updates = None  # of the last getUpdates call
        self.hold_after = None       # sendMessage calls to let through before holding
        self.flood_until = {}        # chat_id -> monotonic time before which a send is refused (retry_after)
        self.parked = 0              # sendMessage calls parked now
        self.early_sends = 0         # sends made while their chat's retry_after was pending

    def message_id(self, chat_id):
        self.next_message_id[chat_id] = self.next_message_id.get(chat_id, self.first_message_id - 1) + 1
        return self.next_message_id[chat_id]


def chat_type_for(chat_id):
    if chat_id > 0:
        return "private"
    if str(chat_id).startswith("-100"):
        return "supergroup"
    return "group"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "telegram-standin/1.0"
    disable_nagle_algorithm = True   # headers and body go out at once, no delayed-ACK stalls

    def log_message(self, fmt, *args):  # quiet
        if self.server.verbose:
            sys.stderr.write("standin: " + (fmt % args) + "\n")

    @property
    def st(self):
        return self.server.state

    # ---- plumbing

    def send_json(self, status, obj, raw=None):
        body = raw.encode() if raw is not None else json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def read_params(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = urllib.parse.urlsplit(self.path).query
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if raw:
            if ctype == "application/json":
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON object")
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: JSON object expected")
                params.update(body)
            elif ctype == "multipart/form-data":
                params.update(parse_multipart(self.headers.get("Content-Type"), raw))
            else:
                params.update({k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode()).items()})
        return params

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        path = self.path
        if path.startswith("http://") or path.startswith("https://"):   # came through us as a proxy
            with self.st.lock:
                self.st.proxied += 1
            parts = urllib.parse.urlsplit(path)
            path = parts.path + ("?" + parts.query if parts.query else "")
            self.path = path
        route = urllib.parse.urlsplit(path).path
        try:
            if route.startswith("/control/"):
                params = self.read_params()
                return self.control(route[len("/control/"):], params)
            m = re.match(r"^/bot([^/]+)/([A-Za-z]+)$", route)
            if not m:
                raise ApiError(404, "Not Found")
            params = self.read_params()
            token, method = m.group(1), m.group(2)
            with self.st.lock:
                self.st.calls[method] = self.st.calls.get(method, 0) + 1
            if token != self.st.token:
                raise ApiError(401, "Unauthorized")
            fault = self.take_fault(method)
            if fault is not None:
                if "body" in fault:
                    return self.send_json(int(fault.get("status", 200)), None, raw=fault["body"])
                params_out = {}
                if fault.get("retry_after") is not None:
                    params_out["retry_after"] = fault["retry_after"]
                    if method == "sendMessage" and int(fault["error_code"]) == 429:
                        try:
                            chat = int(params.get("chat_id"))
                        except (TypeError, ValueError):
                            chat = None
                        if chat is not None:
                            with self.st.lock:
                                self.st.flood_until[chat] = time.monotonic() + float(fault["retry_after"])
                if fault.get("migrate_to_chat_id") is not None:
                    params_out["migrate_to_chat_id"] = fault["migrate_to_chat_id"]
                raise ApiError(int(fault["error_code"]), fault.get("description") or default_description(int(fault["error_code"]), fault),
                               params_out or None)
            handler = getattr(self, "m_" + method, None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = handler(params)
            if result is not NotImplemented:
                self.send_json(200, {"ok": True, "result": result})
        except ApiError as e:
            body = {"ok": False, "error_code": e.code, "description": e.description}
            if e.parameters:
                body["parameters"] = e.parameters
            with self.st.lock:
                self.st.errors_sent[str(e.code)] = self.st.errors_sent.get(str(e.code), 0) + 1
            self.send_json(e.code, body)

    def take_fault(self, method):
        with self.st.lock:
            for f in self.st.faults:
                if f["method"] == method and f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.st.faults.remove(f)
                    return dict(f)
        return None

    # ---- Bot API methods

    def m_getMe(self, params):
        return {"id": int(self.st.token.split(":")[0]), "is_bot": True, "first_name": "Triage",
                "username": self.st.username, "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    def m_deleteWebhook(self, params):
        with self.st.lock:
            self.st.webhook = False
        return True

    def m_setMyCommands(self, params):
        commands = json_param(params.get("commands"), "commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: parameter \"commands\" is required")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands specified")
        for c in commands:
            name = c.get("command", "") if isinstance(c, dict) else ""
            desc = c.get("description", "") if isinstance(c, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(desc) <= 256):
                raise ApiError(400, "Bad Request: command description must be 1-256 characters")
        with self.st.lock:
            self.st.commands = commands
        return True

    def m_getUpdates(self, params):
        st = self.st
        try:
            offset = int(params.get("offset", 0) or 0)
            timeout = int(float(params.get("timeout", 0) or 0))
            limit = int(params.get("limit", 100) or 100)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: invalid parameters")
        limit = max(1, min(100, limit))
        timeout = max(0, min(50, timeout))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed) if allowed else None
        deadline = time.monotonic() + timeout
        with st.lock:
            st.allowed_updates = allowed
            if st.webhook:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            if st.hang_polls:
                while True:             # a hung connection: no answer, ever
                    st.lock.wait(1.0)
            st.poll_gen += 1
            gen = st.poll_gen
            st.lock.notify_all()
            if offset > st.next_update_id + 10:
                offset = 0              # "Specified from_id is in the future": serve from the head
            if offset > 0:
                st.confirmed_offset = max(st.confirmed_offset, offset)
                st.updates = [u for u in st.updates if u[0] >= offset]

            def ready():
                return [u for u in st.updates if (not allowed or u[1] in allowed or u[1] is None)]
            while True:
                if st.poll_gen != gen:
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                        "make sure that only one bot instance is running")
                batch = ready()[:limit]
                if batch or time.monotonic() >= deadline:
                    break
                st.lock.wait(max(0.0, deadline - time.monotonic()))
            now = time.perf_counter()
            for u in batch:
                t = st.timings.get(u[0])
                if t is not None and t.get("delivered") is None:
                    t["delivered"] = now
        raw = '{"ok":true,"result":[' + ",".join(u[2] for u in batch) + "]}"
        self.send_json(200, None, raw=raw)
        return NotImplemented

    def check_chat(self, chat_id):
        st = self.st
        if chat_id in st.migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": st.migrated[chat_id]})
        if chat_id in st.blocked:
            if chat_id > 0:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")

    def flood_wait(self, chat_id, seconds):
        """Answers 429 and remembers that `chat_id` must wait `seconds` (called with the lock held)."""
        self.st.flood_until[chat_id] = time.monotonic() + seconds
        raise ApiError(429, "Too Many Requests: retry after %d" % seconds, {"retry_after": seconds})

    def flood_check(self, chat_id):
        st = self.st
        now = time.monotonic()
        until = st.flood_until.get(chat_id)
        if until is not None and now < until:   # sent before the retry_after it was given
            st.early_sends += 1
            self.flood_wait(chat_id, max(1, int(until - now + 0.999)))
        tokens, last = st.buckets.get(chat_id, [st.chat_burst, now])
        tokens = min(st.chat_burst, tokens + (now - last) * st.chat_rate)
        if tokens < 1:
            wait = (1 - tokens) / st.chat_rate
            self.flood_wait(chat_id, max(1, round(wait + 0.49)))
        if chat_id < 0:
            window = [t for t in st.group_window.get(chat_id, []) if now - t < 60]
            if len(window) >= st.group_per_minute:
                wait = 60 - (now - window[0])
                self.flood_wait(chat_id, max(1, int(wait + 1)))
            window.append(now)
            st.group_window[chat_id] = window
        st.buckets[chat_id] = [tokens - 1, now]

    def parse_text(self, params):
        text = params.get("text")
        if text is None or text == "":
            raise ApiError(400, "Bad Request: message text is empty")
        mode = params.get("parse_mode")
        plain = parse_html(text) if mode and mode.lower() == "html" else text
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > self.st.max_text:   # Telegram counts UTF-16 code units, not characters
            raise ApiError(400, "Bad Request: message is too long")
        return text, plain

    def client_alive(self):
        try:
            return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False

    def m_sendMessage(self, params):
        st = self.st
        with st.lock:
            if st.hold_after is not None:
                if st.hold_after > 0:
                    st.hold_after -= 1
                else:
                    st.hold_sends, st.hold_after = True, None
            if st.hold_sends:
                st.parked += 1
                while st.hold_sends:
                    st.lock.wait(0.2)
                st.parked -= 1
        if not self.client_alive():   # the bot died while the call was parked: it never arrived
            self.close_connection = True
            return NotImplemented
        received = time.perf_counter()
        try:
            chat_id = int(params.get("chat_id"))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat_id is empty")
        text, plain = self.parse_text(params)
        markup = parse_markup(params)
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            reply = json.loads(reply)
        reply_to = None
        if isinstance(reply, dict):
            reply_to = reply.get("message_id")
        elif params.get("reply_to_message_id"):
            reply_to = int(params["reply_to_message_id"])
        with st.lock:
            self.check_chat(chat_id)
            if reply_to is not None and (chat_id, int(reply_to)) not in st.messages \
                    and not (isinstance(reply, dict) and reply.get("allow_sending_without_reply")):
                raise ApiError(400, "Bad Request: message to be replied not found")
            self.flood_check(chat_id)
            mid = st.message_id(chat_id)
            msg = {"message_id": mid, "date": int(time.time()),
                   "chat": {"id": chat_id, "type": chat_type_for(chat_id)},
                   "from": {"id": int(st.token.split(":")[0]), "is_bot": True, "first_name": "Triage",
                            "username": st.username},
                   "text": plain}
            if markup is not None:
                msg["reply_markup"] = markup
            st.messages[(chat_id, mid)] = msg
            record = {"chat_id": chat_id, "message_id": mid, "text": plain, "html": text,
                      "parse_mode": params.get("parse_mode"), "reply_to": reply_to, "at": time.time(),
                      "reply_markup": markup}
            st.sent.append(record)
            if reply_to is not None:
                uid = st.by_message.get((chat_id, int(reply_to)))
                t = st.timings.get(uid) if uid is not None else None
                if t is not None and t.get("replied") is None:
                    t["replied"] = received
            st.lock.notify_all()
        return msg

    def m_editMessageText(self, params):
        st = self.st
        chat_id, message_id = edit_target(params)
        text, plain = self.parse_text(params)
        markup = parse_markup(params)
        with st.lock:
            self.check_chat(chat_id)
            msg = self.editable(chat_id, message_id)
            if msg["text"] == plain and msg.get("reply_markup") == markup:
                raise ApiError(400, NOT_MODIFIED)
            msg["text"] = plain
            self.set_markup(msg, markup)
            msg["edit_date"] = int(time.time())
            st.sent.append({"chat_id": chat_id, "message_id": message_id, "text": plain, "html": text,
                            "edited": True, "at": time.time(), "reply_markup": markup})
            st.lock.notify_all()
        return msg

    def editable(self, chat_id, message_id):
        """The bot's own message, or 400 like the real server."""
        msg = self.st.messages.get((chat_id, message_id))
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not msg.get("from", {}).get("is_bot") or msg["from"].get("username") != self.st.username:
            raise ApiError(400, "Bad Request: message can't be edited")
        return msg

    @staticmethod
    def set_markup(msg, markup):
        if markup is None:
            msg.pop("reply_markup", None)
        else:
            msg["reply_markup"] = markup

    def m_editMessageReplyMarkup(self, params):
        st = self.st
        chat_id, message_id = edit_target(params)
        markup = parse_markup(params)
        with st.lock:
            self.check_chat(chat_id)
            msg = self.editable(chat_id, message_id)
            if msg.get("reply_markup") == markup:
                raise ApiError(400, NOT_MODIFIED)
            self.set_markup(msg, markup)
            msg["edit_date"] = int(time.time())
            st.sent.append({"chat_id": chat_id, "message_id": message_id, "text": msg["text"], "edited": True,
                            "markup_only": True, "at": time.time(), "reply_markup": markup})
            st.lock.notify_all()
        return msg

    def m_answerCallbackQuery(self, params):
        st = self.st
        qid = params.get("callback_query_id")
        text = params.get("text") or ""
        alert = params.get("show_alert")
        if isinstance(alert, str):
            alert = alert.lower() in ("true", "1")
        with st.lock:
            q = st.queries.get(str(qid)) if qid is not None else None
            record = {"callback_query_id": qid, "text": text, "show_alert": bool(alert), "at": time.time()}
            if q is None or q["answered"] or time.time() - q["at"] > st.callback_timeout:
                record["error"] = QUERY_TOO_OLD
                st.answers.append(record)
                st.lock.notify_all()
                raise ApiError(400, QUERY_TOO_OLD)
            if len(text) > 200:
                record["error"] = "MESSAGE_TOO_LONG"
                st.answers.append(record)
                raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            q["answered"] = True
            record["from_id"] = q["from_id"]
            record["delay"] = time.time() - q["at"]
            st.answers.append(record)
            st.lock.notify_all()
        return True

    def m_sendDocument(self, params):
        st = self.st
        try:
            chat_id = int(params.get("chat_id"))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat_id is empty")
        doc = params.get("document")
        if not isinstance(doc, dict):
            raise ApiError(400, "Bad Request: there is no document in the request")
        if len(doc["data"]) == 0:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if len(doc["data"]) > MAX_DOCUMENT:
            raise ApiError(413, "Request Entity Too Large")
        caption = params.get("caption")
        plain_caption = None
        if caption:
            mode = params.get("parse_mode")
            plain_caption = parse_html(caption) if mode and mode.lower() == "html" else caption
            if utf16_len(plain_caption) > MAX_CAPTION:
                raise ApiError(400, "Bad Request: message caption is too long")
        with st.lock:
            self.check_chat(chat_id)
            self.flood_check(chat_id)
            mid = st.message_id(chat_id)
            file_id = "doc%d_%d" % (chat_id & 0xffffff, mid)
            document = {"file_id": file_id, "file_unique_id": file_id, "file_name": doc["filename"],
                        "mime_type": doc["content_type"], "file_size": len(doc["data"])}
            msg = {"message_id": mid, "date": int(time.time()), "chat": {"id": chat_id, "type": chat_type_for(chat_id)},
                   "from": {"id": int(st.token.split(":")[0]), "is_bot": True, "first_name": "Triage", "username": st.username},
                   "document": document}
            if plain_caption:
                msg["caption"] = plain_caption
            st.messages[(chat_id, mid)] = dict(msg, text=plain_caption or "")
            try:
                content = doc["data"].decode("utf-8")
            except UnicodeDecodeError:
                content = None
            st.documents.append(dict(document, chat_id=chat_id, message_id=mid, caption=plain_caption, content=content))
            st.lock.notify_all()
        return msg

    # ---- control API

    def add_update(self, raw_text, kind, update_id, key=None):
        st = self.st
        st.updates.append((update_id, kind, raw_text, key))
        st.all_updates[update_id] = (kind, raw_text)
        st.lock.notify_all()

    def control(self, name, p):
        st = self.st
        if name == "message":
            chat_id = int(p["chat_id"])
            from_id = int(p.get("from_id", 1))
            text = p["text"]
            entities = p.get("entities")
            if entities is None:
                entities = []
                for m in COMMAND_RE.finditer(text):
                    start = m.start()
                    if start > 0 and not text[start - 1].isspace():
                        continue
                    entities.append({"type": "bot_command", "offset": utf16_len(text[:start]),
                                     "length": utf16_len(m.group(0))})
            with st.lock:
                mid = st.message_id(chat_id)
                uid = st.next_update_id
                st.next_update_id += 1
                chat = {"id": chat_id, "type": p.get("chat_type") or chat_type_for(chat_id)}
                if chat["type"] != "private":
                    chat["title"] = p.get("title", "ops %d" % chat_id)
                message = {"message_id": mid, "date": int(time.time()), "chat": chat,
                           "from": {"id": from_id, "is_bot": bool(p.get("is_bot", False)),
                                    "first_name": p.get("first_name", "user%d" % from_id),
                                    "username": p.get("username", "user%d" % from_id)},
                           "text": text}
                if entities:
                    message["entities"] = entities
                if p.get("migrate_to_chat_id"):
                    message["migrate_to_chat_id"] = int(p["migrate_to_chat_id"])
                st.messages[(chat_id, mid)] = message
                st.by_message[(chat_id, mid)] = uid
                st.timings[uid] = {"available": time.perf_counter(), "chat": chat_id, "message_id": mid}
                self.add_update(json.dumps({"update_id": uid, "message": message}), "message", uid)
            return self.send_json(200, {"update_id": uid, "message_id": mid})
        if name == "callback":
            chat_id = int(p["chat_id"])
            from_id = int(p.get("from_id", 1))
            with st.lock:
                msg = st.messages.get((chat_id, int(p["message_id"])))
                if msg is None:
                    raise ApiError(404, "Not Found: no such message to tap")
                data = p.get("data")
                if data is None:
                    buttons = [b for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
                    if p.get("button") is not None:
                        buttons = [b for b in buttons if b["text"] == p["button"]]
                    if not buttons:
                        raise ApiError(404, "Not Found: the message has no such button")
                    data = buttons[0].get("callback_data")
                st.next_query += 1
                qid = "%d%06d" % (from_id, st.next_query)
                st.queries[qid] = {"at": time.time(), "answered": False, "from_id": from_id}
                uid = st.next_update_id
                st.next_update_id += 1
                if p.get("inaccessible"):
                    shown = {"chat": msg["chat"], "message_id": msg["message_id"], "date": 0}
                else:
                    shown = msg
                query = {"id": qid, "from": {"id": from_id, "is_bot": False,
                                             "first_name": p.get("first_name", "user%d" % from_id),
                                             "username": p.get("username", "user%d" % from_id)},
                         "message": shown, "chat_instance": str(abs(chat_id) * 7919), "data": data}
                self.add_update(json.dumps({"update_id": uid, "callback_query": query}), "callback_query", uid)
            return self.send_json(200, {"update_id": uid, "callback_query_id": qid})
        if name == "answers":
            with st.lock:
                return self.send_json(200, {"answers": list(st.answers)})
        if name == "message_state":
            with st.lock:
                msg = st.messages.get((int(p["chat_id"]), int(p["message_id"])))
                return self.send_json(200, {"message": msg})
        if name == "documents":
            with st.lock:
                return self.send_json(200, {"documents": list(st.documents)})
        if name == "raw_update":
            with st.lock:
                uid = st.next_update_id
                st.next_update_id += 1
                update = p.get("update")
                if isinstance(update, dict) and p.get("with_id", True):
                    update = dict(update, update_id=uid)
                raw = p["raw"] if "raw" in p else json.dumps(update)
                self.add_update(raw, p.get("kind", "message"), uid)
            return self.send_json(200, {"update_id": uid})
        if name == "duplicate":
            with st.lock:
                uid = int(p["update_id"])
                kind, raw = st.all_updates[uid]
                self.add_update(raw, kind, uid)
            return self.send_json(200, {"ok": True})
        if name == "fail":
            with st.lock:
                f = dict(p)
                f["count"] = int(p.get("count", 1))
                st.faults.append(f)
            return self.send_json(200, {"ok": True})
        if name == "delete":
            # Someone deleted the message (as an admin can): editing it is "message to edit not found".
            with st.lock:
                st.messages.pop((int(p["chat_id"]), int(p["message_id"])), None)
            return self.send_json(200, {"ok": True})
        if name == "migrate":
            with st.lock:
                st.migrated[int(p["chat_id"])] = int(p["new_chat_id"])
            return self.send_json(200, {"ok": True})
        if name == "block":
            with st.lock:
                st.blocked.add(int(p["chat_id"]))
            return self.send_json(200, {"ok": True})
        if name == "unblock":
            with st.lock:
                st.blocked.discard(int(p["chat_id"]))
            return self.send_json(200, {"ok": True})
        if name == "hold_sends":
            with st.lock:
                active = bool(p.get("active", True))
                if active and p.get("after") is not None:
                    st.hold_sends, st.hold_after = False, int(p["after"])
                else:
                    st.hold_sends, st.hold_after = active, None
                st.lock.notify_all()
            return self.send_json(200, {"ok": True})
        if name == "max_text":
            with st.lock:
                st.max_text = int(p.get("units", MAX_TEXT))
            return self.send_json(200, {"ok": True})
        if name == "hang_polls":
            with st.lock:
                st.hang_polls = bool(p.get("active", True))
                st.lock.notify_all()
            return self.send_json(200, {"ok": True})
        if name == "webhook":
            with st.lock:
                st.webhook = bool(p.get("active", True))
                st.lock.notify_all()
            return self.send_json(200, {"ok": True})
        if name == "wait_sent":
            count = int(p.get("count", 1))
            chat = p.get("chat_id")
            deadline = time.monotonic() + float(p.get("timeout", 10))
            with st.lock:
                while True:
                    sent = [m for m in st.sent if chat is None or m["chat_id"] == int(chat)]
                    if len(sent) >= count or time.monotonic() >= deadline:
                        break
                    st.lock.wait(max(0.0, deadline - time.monotonic()))
            return self.send_json(200, {"sent": sent})
        if name == "sent":
            chat = p.get("chat_id")
            with st.lock:
                sent = [m for m in st.sent if chat is None or m["chat_id"] == int(chat)]
            return self.send_json(200, {"sent": sent})
        if name == "state":
            with st.lock:
                return self.send_json(200, {
                    "pending": [u[0] for u in st.updates], "confirmed_offset": st.confirmed_offset,
                    "calls": st.calls, "errors_sent": st.errors_sent, "commands": st.commands,
                    "webhook": st.webhook, "faults": st.faults, "proxied": st.proxied,
                    "early_sends": st.early_sends, "parked_sends": st.parked,
                    "next_update_id": st.next_update_id, "allowed_updates": st.allowed_updates})
        if name == "timings":
            with st.lock:
                return self.send_json(200, {"timings": [dict(v, update_id=k) for k, v in st.timings.items()]})
        if name == "reset_timings":
            with st.lock:
                st.timings.clear()
            return self.send_json(200, {"ok": True})
        raise ApiError(404, "Not Found: no such control endpoint")


def default_description(code, fault):
    return {
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
        429: "Too Many Requests: retry after %s" % fault.get("retry_after", 1),
        500: "Internal Server Error",
        502: "Bad Gateway",
    }.get(code, "Error %d" % code)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="123456:TEST-token_abc")
    ap.add_argument("--username", default="triage_test_bot")
    ap.add_argument("--chat-rate", type=float, default=1.0, help="messages per second per chat (refill)")
    ap.add_argument("--chat-burst", type=float, default=3.0, help="burst allowance per chat")
    ap.add_argument("--group-per-minute", type=int, default=20)
    ap.add_argument("--first-update-id", type=int, default=1000, help="update_id of the first update (restart lower to "
                    "reproduce an id reset)")
    ap.add_argument("--first-message-id", type=int, default=1, help="first message_id in every chat (a restarted "
                    "server continues the chats' ids)")
    ap.add_argument("--callback-timeout", type=float, default=15.0, help="seconds within which a callback query "
                    "can be answered (later: \"query is too old\")")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--exit-on-stdin-eof", action="store_true", help="exit when stdin closes (the test process ended)")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.verbose = args.verbose
    server.state = State(args.token, args.username, args.chat_rate, args.chat_burst, args.group_per_minute,
                         args.first_update_id)
    server.state.first_message_id = args.first_message_id
    server.state.callback_timeout = args.callback_timeout
    print("PORT %d" % server.server_address[1], flush=True)
    if args.exit_on_stdin_eof:
        import os
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
