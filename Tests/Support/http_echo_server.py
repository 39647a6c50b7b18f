#!/usr/bin/env python3
"""Loopback HTTP/1.1 server for HTTPClient's tests (stdlib only; binds 127.0.0.1).

Every response is JSON describing the request: method, path, headers, body, the client's
port (a reused keep-alive connection keeps its port) and how many requests were in flight.
  /delay?s=N     answers after N seconds        /status?code=N   answers with that status
  /stats         {"max_in_flight", "connections"} (distinct client ports seen)
  /reset         clears the stats
  absolute-form request lines (a client using us as its http_proxy) are marked "proxied".
Run: python3 http_echo_server.py   -> prints "PORT n".
"""
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
stats = {"in_flight": 0, "max_in_flight": 0, "ports": set()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        proxied = self.path.startswith("http://")
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        port = self.client_address[1]
        with lock:
            stats["in_flight"] += 1
            stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
            stats["ports"].add(port)
        try:
            status = 200
            if url.path == "/delay":
                time.sleep(float(query.get("s", "1")))
            elif url.path == "/status":
                status = int(query.get("code", "200"))
            if url.path == "/stats":
                with lock:
                    out = {"max_in_flight": stats["max_in_flight"], "connections": len(stats["ports"])}
            elif url.path == "/reset":
                with lock:
                    stats["max_in_flight"] = 0
                    stats["ports"] = set()
                out = {"ok": True}
            else:
                out = {"method": self.command, "path": url.path, "query": query, "body": body, "port": port,
                       "proxied": proxied, "host": self.headers.get("Host"),
                       "headers": {k.lower(): v for k, v in self.headers.items()}}
            data = json.dumps(out).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Echo", "yes")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with lock:
                stats["in_flight"] -= 1

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


if __name__ == "__main__":
    ThreadingHTTPServer.request_queue_size = 64
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    # Exit when the test process closes our stdin (or dies), so no server outlives its test.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    server.serve_forever(poll_interval=0.5)
