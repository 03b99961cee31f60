#!/usr/bin/env python3
"""A loopback HTTP and HTTPS receiver for evbus's API destination tests.

It records every request (method, path, query, headers, body, arrival
time) and answers what the test asked for:

  POST /_control/respond  {"path": "/p", "status": 500, "delay_ms": 0,
                           "times": 1, "body": "..."}   queue answers for a path
  GET  /_control/requests  the recorded requests, JSON, oldest first
  POST /_control/reset     forget requests, queued answers and tokens
  POST /_control/revoke    invalidate every OAuth token issued so far
  *    /oauth/token        an OAuth client-credentials endpoint: answers
                           {"access_token": "tok-N", "token_type": "bearer",
                           "expires_in": --token-ttl}
  *    /protected/...      answers 401 unless "Authorization: Bearer <a
                           valid token>" is sent
  *    anything else       200 {"ok": true}, or the queued answer

Control requests are not recorded. With --cert and --key it also serves
HTTPS (same state) on a second port. The ports are written to --port-file
as "HTTP_PORT HTTPS_PORT" (0 when there is no HTTPS). It binds 127.0.0.1
only and exits by itself after --ttl seconds.

--port P binds the HTTP port P instead of an ephemeral one (an outage test
stops the receiver and starts it again on the same port). --record F
appends every recorded request to F as one JSON line, written before the
answer is sent, so whatever the client saw answered is in F even if the
receiver is killed.

  python3 receiver.py --port-file F [--port P] [--record F]
                      [--cert C --key K] [--ttl 300]
"""
import argparse
import json
import os
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOCK = threading.Lock()
STATE = {"requests": [], "plans": {}, "tokens": set(), "issued": 0}
TOKEN_TTL = 3600
RECORD = None  # the --record file, line-buffered


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, body=b"", ctype="application/json"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except OSError:  # the client gave up (a timeout test)
                self.close_connection = True

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        u = urlsplit(self.path)
        if u.path.startswith("/_control/"):
            return self._control(u.path, body)
        rec = {
            "method": self.command,
            "path": u.path,
            "query": u.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "t": time.time(),
        }
        with LOCK:
            STATE["requests"].append(rec)
            if RECORD:
                RECORD.write(json.dumps(rec) + "\n")
                RECORD.flush()
            plan = STATE["plans"].get(u.path)
            step = None
            if plan:
                step = plan[0]
                step["times"] -= 1
                if step["times"] <= 0:
                    plan.pop(0)
        if step and step.get("delay_ms"):
            time.sleep(step["delay_ms"] / 1000.0)
        if step:
            return self._send(step.get("status", 200), step.get("body", ""))
        if u.path == "/oauth/token":
            with LOCK:
                STATE["issued"] += 1
                tok = "tok-%d" % STATE["issued"]
                STATE["tokens"].add(tok)
            return self._send(200, json.dumps({"access_token": tok,
                                               "token_type": "bearer",
                                               "expires_in": TOKEN_TTL}))
        if u.path.startswith("/protected/"):
            auth = self.headers.get("Authorization", "")
            with LOCK:
                ok = auth.startswith("Bearer ") and auth[7:] in STATE["tokens"]
            if not ok:
                return self._send(401, '{"message":"bad token"}')
        return self._send(200, '{"ok":true}')

    def _control(self, path, body):
        with LOCK:
            if path == "/_control/respond":
                p = json.loads(body)
                p.setdefault("times", 1)
                STATE["plans"].setdefault(p["path"], []).append(p)
                out = "{}"
            elif path == "/_control/requests":
                out = json.dumps(STATE["requests"])
            elif path == "/_control/reset":
                STATE["requests"].clear()
                STATE["plans"].clear()
                STATE["tokens"].clear()
                out = "{}"
            elif path == "/_control/revoke":
                STATE["tokens"].clear()
                out = "{}"
            else:
                return self._send(404, "{}")
        return self._send(200, out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
    do_HEAD = do_OPTIONS = _handle


def main():
    global TOKEN_TTL, RECORD
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ttl", type=float, default=300)
    ap.add_argument("--token-ttl", type=int, default=3600)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record")
    a = ap.parse_args()
    TOKEN_TTL = a.token_ttl
    if a.record:
        RECORD = open(a.record, "a", encoding="utf-8")
    ThreadingHTTPServer.daemon_threads = True
    http = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    servers = [http]
    https_port = 0
    if a.cert and a.key:
        https = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        https.socket = ctx.wrap_socket(https.socket, server_side=True)
        https_port = https.server_address[1]
        servers.append(https)
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (http.server_address[1], https_port))
    os.rename(tmp, a.port_file)
    time.sleep(a.ttl)


if __name__ == "__main__":
    main()
