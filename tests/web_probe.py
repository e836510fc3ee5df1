#!/usr/bin/python3
"""Clients for tests/test_serve.sh, on raw sockets so that every request goes out byte for byte
as written (no client-side normalising of "../" or of headers).

  web_probe.py security PORT RUN      traversal, methods, Host, oversized requests, many
                                      connections, a client that never reads; one line per check:
                                      "PASS name" or "FAIL name: why"
  web_probe.py hostile PORT SECONDS   keeps hostile clients busy for SECONDS or until SIGTERM (held
                                      idle connections, a pipelining client that never reads,
                                      oversized URLs), waiting for the server to listen first,
                                      and prints what got through
  web_probe.py port                   prints a TCP port free now
  web_probe.py get PORT PATH          prints the status, then the body
  web_probe.py log PORT FROM ID       asks run 0's log from byte FROM of file ID: the text on
                                      stdout, "status next id reset" on stderr
RUN is the run directory served as run 0: the checks compare answers with its files.
"""
import os
import signal
import socket
import sys
import time


def request(port, raw, timeout=5.0):
    """Sends raw bytes, reads until the server closes or the timeout; (status, body) or (None, why)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(raw)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout) as e:
                if not data:
                    return None, repr(e)
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data:
        return None, "closed without an answer"
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None, "not HTTP: %r" % head[:60]
    return status, body


def get(port, path, host=None, extra=b""):
    host = host or ("127.0.0.1:%d" % port).encode()
    raw = b"GET " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n" + extra + b"\r\n"
    return request(port, raw)


def get_log(port, start, log_id):
    """The log endpoint's answer: (status, {lower-case header: value}, body)."""
    raw = b"GET /api/run/0/log?from=%s&id=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % (
        start.encode(), log_id.encode(), port)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(raw)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict((k.strip().lower(), v.strip()) for k, _, v in (l.partition(":") for l in lines[1:]))
    return int(lines[0].split(" ")[1]), headers, body


results = []


def check(name, ok, why=""):
    results.append(ok)
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))
    sys.stdout.flush()


def alive(port):
    status, body = get(port, b"/api/runs")
    return status == 200 and b'"runs"' in body


def security(port, run):
    log = open(os.path.join(run, "log.jsonl"), "rb").read()
    secret = open(os.path.join(run, "..", "secret.png"), "rb").read()

    def leaks(body):
        return isinstance(body, bytes) and (secret in body or (len(body) > 40 and body in log) or b"root:" in body)

    # --- paths that try to leave samples/ or the run: never 200, never a byte of what they name
    for path in [b"/run/0/samples/../log.jsonl", b"/run/0/samples/%2e%2e/log.jsonl", b"/run/0/samples/%2e%2e%2flog.jsonl",
                 b"/run/0/samples/..%2f..%2fsecret.png", b"/run/0/samples/..%5c..%5csecret.png",
                 b"/run/0/samples/%2e%2e/%2e%2e/secret.png", b"/run/0/samples/%2e%2e%2f%2e%2e%2fsecret.png",
                 b"/run/0/samples/....//log.jsonl", b"/run/0/samples/%2e%2e%2f%2e%2e%2f..%2f..%2f..%2fetc%2fpasswd",
                 b"/run/0/samples//etc/passwd", b"/run/0/samples/%2fetc%2fpasswd", b"/../../../../etc/passwd",
                 b"/api/run/0/../../../../etc/passwd", b"/run/0/../../secret.png",
                 b"/run/0/samples/link-out.png", b"/run/0/samples/link-log.png", b"/run/0/samples/.hidden.png",
                 b"/run/0/samples/fifo.png", b"/run/0/samples/dir.png", b"/run/9/samples/step_000010.png",
                 b"/run/-1/samples/step_000010.png", b"/run/0x0/samples/step_000010.png", b"/api/run/7/log"]:
        status, body = get(port, path)
        check("refused: %s" % path.decode(), status in (400, 404) and not leaks(body), "status %s" % status)
    want = open(os.path.join(run, "samples", "step_000010.png"), "rb").read()
    # a NUL decoded from %00 ends the name (MHD hands over C strings): at most that grid itself
    status, body = get(port, b"/run/0/samples/step_000010.png%00.png")
    check("step_000010.png%00.png: that grid or nothing", status in (400, 404) or (status == 200 and body == want),
          "status %s" % status)
    status, body = get(port, b"/run/0/samples/step_000010.png")
    check("a grid of the run is served whole", status == 200 and body == want, "status %s, %d bytes" % (status, len(body or b"")))
    status, body = get(port, b"/api/run/0/log?from=0")
    check("the log is served whole", status == 200 and body == log, "status %s" % status)
    status, _ = get(port, b"/api/run/0/log?from=-5")
    check("a negative log offset is refused", status == 400, "status %s" % status)

    # --- other methods, other Hosts (DNS rebinding: a name that resolves to 127.0.0.1)
    for method in [b"POST", b"PUT", b"DELETE", b"OPTIONS"]:
        raw = method + b" /api/runs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello" % port
        status, _ = request(port, raw)
        check("%s is refused with 405" % method.decode(), status == 405, "status %s" % status)
    status, body = get(port, b"/api/runs", host=b"evil.example:%d" % port)
    check("a foreign Host is refused with 403", status == 403, "status %s" % status)
    status, _ = get(port, b"/api/runs", host=b"localhost:%d" % port)
    check("Host localhost:PORT is served", status == 200, "status %s" % status)
    # a body announced as 1 GB and never sent: answered on the headers, not waited for
    t0 = time.time()
    status, _ = request(port, b"POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 1000000000\r\n\r\n" % port)
    check("a 1 GB body is not waited for", status == 405 and time.time() - t0 < 3, "status %s after %.1f s" % (status, time.time() - t0))

    # --- oversized requests: refused (4xx) or closed, and the server answers the next one
    huge = b"a" * 200000
    status, _ = get(port, b"/" + huge)
    check("a 200 kB URL is refused", status is None or 400 <= status < 500, "status %s" % status)
    status, _ = get(port, b"/api/runs", extra=b"X-Big: " + huge + b"\r\n")
    check("a 200 kB header is refused", status is None or 400 <= status < 500, "status %s" % status)
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(2000))
    status, _ = get(port, b"/api/runs", extra=many)
    check("2000 headers are refused", status is None or 400 <= status < 500, "status %s" % status)
    check("... and the server answers after them", alive(port), "no answer")

    # --- many connections at once: the surplus is turned away, the server stays up
    socks = []
    for _ in range(300):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            break
    time.sleep(0.5)
    closed = 0
    for s in socks:  # the server closes what is over its limit: a read sees the end at once
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    check("of 300 connections at once, those over the limit are closed (%d were)" % closed, closed >= 300 - 64,
          "only %d closed" % closed)
    for s in socks:
        s.close()
    time.sleep(0.3)
    check("... and after them the server answers", alive(port), "no answer")

    # --- a client that asks and never reads: the others are still served meanwhile
    slow = socket.create_connection(("127.0.0.1", port), timeout=2)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    req = b"GET /run/0/samples/step_000010.png HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
    try:
        slow.sendall(req * 200)
    except OSError:
        pass
    t0 = time.time()
    ok = all(alive(port) for _ in range(20))
    check("while a client never reads, 20 requests are answered (in %.2f s)" % (time.time() - t0), ok and time.time() - t0 < 5,
          "failed or slow")
    slow.close()
    return all(results)


def hostile(port, seconds):
    """Keeps the server busy with what an attacker would try until SECONDS pass or SIGTERM comes,
    then prints what got through: connections held, bytes a never-reading client had sent."""
    end = time.time() + seconds
    held, stats = [], {"rounds": 0, "held": 0, "unread": 0, "oversized": 0}

    def report(*_):
        print("hostile: %(rounds)d rounds, %(held)d connections held, %(unread)d bytes of requests never read, "
              "%(oversized)d oversized requests" % stats)
        sys.stdout.flush()
        os._exit(0)

    signal.signal(signal.SIGTERM, report)
    req = b"GET /api/run/0/log?from=0 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
    while time.time() < end:
        for s in held:
            s.close()
        held = []
        try:
            for _ in range(40):  # idle connections, sending one header byte now and then
                s = socket.create_connection(("127.0.0.1", port), timeout=1)
                s.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
                held.append(s)
                stats["held"] += 1
            r = socket.create_connection(("127.0.0.1", port), timeout=1)  # asks, never reads
            r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            r.setblocking(False)
            held.append(r)
            try:
                for _ in range(100):
                    stats["unread"] += r.send(req)
            except OSError:
                pass
            get(port, b"/" + b"a" * 100000)
            stats["oversized"] += 1
        except OSError:
            time.sleep(0.02)  # not listening yet, or connections refused over the limit: again
            continue
        stats["rounds"] += 1
        for _ in range(10):
            if time.time() >= end:
                break
            for s in held[:40]:
                try:
                    s.send(b"a")
                except OSError:
                    pass
            time.sleep(0.2)
    report()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    print(port)


def main():
    cmd, port = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if cmd == "security":
        sys.exit(0 if security(port, sys.argv[3]) else 1)
    if cmd == "hostile":
        hostile(port, float(sys.argv[3]))
    elif cmd == "log":  # one answer of the log endpoint: "next id reset" on stderr, the text on stdout
        status, head, body = get_log(port, sys.argv[3], sys.argv[4])
        sys.stderr.write("%s %s %s %s\n" % (status, head.get("x-log-next"), head.get("x-log-id"), head.get("x-log-reset")))
        sys.stdout.buffer.write(body)
    elif cmd == "port":
        free_port()
    elif cmd == "get":
        status, body = get(port, sys.argv[3].encode())
        print(status)
        sys.stdout.buffer.write(body if isinstance(body, bytes) else b"")
    else:
        sys.exit("web_probe.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
