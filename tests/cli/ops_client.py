"""Socket-level clients for tests/cli/test_ops.sh (standard library only).

  python3 ops_client.py limits PORT HEADER_TIMEOUT
      two idle keep-alive connections fill a --max-connections 2 server;
      a third gets 503 ThrottlingException and is closed; once one is
      closed a new connection is served; an idle keep-alive connection
      outlives the header timeout; a client trickling its headers a byte
      at a time is cut off soon after the header timeout, and meanwhile
      another client is served.
  python3 ops_client.py slowtail PORT OUTFILE
      subscribe to /_evbus/tail and read nothing until told (a line on
      stdin), then read the whole stream into OUTFILE.

Every socket has a timeout; prints "ok: ..." / "FAIL: ..." lines.
"""
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def request(s, path="/health"):
    s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return status, head.decode("latin-1"), body.decode("utf-8", "replace")


def closed_by_peer(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def report(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    return ok


def limits(port, header_timeout):
    a, b = connect(port), connect(port)
    report(request(a)[0] == 200, "first connection served")
    report(request(b)[0] == 200, "second connection served")
    c = connect(port)
    status, head, body = request(c, "/ready")
    report(status == 503 and '"__type":"ThrottlingException"' in body,
           "third connection: 503 ThrottlingException (%d %s)" % (status, body))
    report("Connection: close" in head, "the 503 closes its connection")
    report(closed_by_peer(c, 5), "the over-limit connection is closed")
    a.close()
    time.sleep(0.3)
    d = connect(port)
    report(request(d)[0] == 200, "a new connection once one is freed")
    # idle keep-alive connections are not subject to the header timeout
    time.sleep(header_timeout + 1.0)
    report(request(b)[0] == 200,
           "an idle keep-alive connection outlives the header timeout")
    b.close()
    d.close()
    time.sleep(0.3)
    # slow loris: a byte every 0.2 s, for much longer than the timeout
    s = connect(port)
    msg = b"POST / HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 400
    t0 = time.time()
    cut = None
    served_meanwhile = False
    for i, byte in enumerate(msg):
        try:
            s.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            cut = time.time() - t0
            break
        if closed_by_peer(s, 0.2):
            cut = time.time() - t0
            break
        if i == 5:  # the server still serves others
            o = connect(port)
            served_meanwhile = request(o)[0] == 200
            o.close()
        if time.time() - t0 > header_timeout + 10:
            break
    report(served_meanwhile, "another client is served during the trickle")
    report(cut is not None and cut < header_timeout + 2.0,
           "the trickling client is cut off after %s s (header timeout %s)"
           % (None if cut is None else round(cut, 2), header_timeout))
    e = connect(port)
    report(request(e)[0] == 200, "served after the slow client")
    e.close()


def slowtail(port, outfile):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /_evbus/tail?bus=default HTTP/1.1\r\nHost: t\r\n\r\n")
    print("subscribed", flush=True)
    sys.stdin.readline()  # the test has put its events
    data = b""
    s.settimeout(10)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    with open(outfile, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    if sys.argv[1] == "limits":
        limits(int(sys.argv[2]), float(sys.argv[3]))
    elif sys.argv[1] == "slowtail":
        slowtail(int(sys.argv[2]), sys.argv[3])
