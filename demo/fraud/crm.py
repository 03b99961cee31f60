#!/usr/bin/env python3
"""The demo's stand-in for a third-party CRM: a loopback HTTPS webhook.

It accepts POST /cases (what the `high-risk` rule's API destination calls)
only with the right API key in the header named by --key-header, records
each case as one JSON line in --record (with its arrival time in Unix ms,
written before the answer, so what evbus saw accepted is on disk), and
answers 201 {"caseId": N}. A wrong or missing key gets 401, any other
path 404. The HTTPS port is written to --port-file once it listens; it
exits on SIGTERM or after --ttl seconds.

  python3 crm.py --cert C --key K --api-key SECRET --record F --port-file P
"""
import argparse
import hmac
import json
import os
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"cases": 0, "rejected": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        if self.path.split("?")[0] != "/cases":
            self._send(404, {"error": "no such endpoint"})
            return
        got = self.headers.get(ARGS.key_header) or ""
        if not hmac.compare_digest(got.encode(), ARGS.api_key.encode()):
            with LOCK:
                STATE["rejected"] += 1
            self._send(401, {"error": "invalid API key"})
            return
        try:
            case = json.loads(body)
        except ValueError:
            self._send(400, {"error": "body is not JSON"})
            return
        with LOCK:
            STATE["cases"] += 1
            case_id = STATE["cases"]
            line = json.dumps({"received_ms": int(time.time() * 1000),
                               "case": case}, separators=(",", ":"))
            RECORD.write(line + "\n")
            RECORD.flush()
        self._send(201, {"caseId": case_id})

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                self._send(200, dict(STATE))
            return
        self._send(404, {"error": "no such endpoint"})


def main():
    global ARGS, RECORD
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--key-header", default="x-api-key")
    ap.add_argument("--record", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--ttl", type=float, default=3600)
    ARGS = ap.parse_args()
    RECORD = open(ARGS.record, "a", encoding="utf-8")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, ARGS.port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    stop.wait(ARGS.ttl)
    srv.shutdown()
    RECORD.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
