#!/usr/bin/env python3
"""
load.py — load and slow clients against one server.

1. Load: CONNS (default 1000) keep-alive connections at once, for SECONDS (default 10), each
   looping over a mix of reads (package and version documents, downloads, search, an npm
   packument, /health) and writes (about 1 in 12: a native or an npm publish of a new version).
   Every answer must have the status its request expects (200, or 201/200 for a publish) and no
   connection may fail. The server's open descriptors (/proc/PID/fd) must be back within FD_SLACK
   of where they were before, and its RSS (/proc/PID/status VmRSS) within RSS_SLACK_MIB; latency
   percentiles are printed per kind of request.
2. Slowloris: SLOW (default 500) connections that send a request head one byte every
   SLOW_INTERVAL seconds (default 2), held for SLOW_SECONDS (default 10), while a normal client
   asks for a package document every 0.2 s: each answer must be a 200 within NORMAL_MAX seconds
   (default 1.0).

The server's own connection limits would refuse this many connections from one address (1024 in
all, 128 per IP by default), and its rate limits would answer 429: this test starts it with
--max-connections 4096 --max-connections-per-ip 0 and rate limits off, so any 429 or 503 is a
failure.

    python3 tests/soak/load.py [SECONDS]
"""

import asyncio
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402

CONNS = int(os.environ.get("CONNS", "1000"))
SLOW = int(os.environ.get("SLOW", "500"))
SLOW_INTERVAL = float(os.environ.get("SLOW_INTERVAL", "2"))
SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "10"))
NORMAL_MAX = float(os.environ.get("NORMAL_MAX", "1.0"))
FD_SLACK = int(os.environ.get("FD_SLACK", "8"))
RSS_SLACK_MIB = int(os.environ.get("RSS_SLACK_MIB", "64"))
PACKAGES = 8


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def read_response(reader):
    """(status, body) of one response on a keep-alive connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, body, headers
            body += await reader.readexactly(size + 2)
            body = body[:-2]
    n = int(headers.get("content-length", "0"))
    return status, (await reader.readexactly(n) if n else b""), headers


class Load:
    def __init__(self, reg, seconds):
        self.reg = reg
        self.seconds = seconds
        self.lat = {}          # kind -> [seconds]
        self.unexpected = []   # (kind, what)
        self.counts = {}
        self.versions = 0
        self.names = [soak.names_for("native", "load%d" % i) for i in range(PACKAGES)]
        self.npm_names = [soak.names_for("npm", "load%d" % i) for i in range(PACKAGES)]

    def setup(self):
        for name in self.names:
            wire, _ = soak.build("native", name, "0.1.0", 2048)
            st, body = self.reg.publish("native", name, "0.1.0", wire)
            assert st == 201, (st, body)
        for name in self.npm_names:
            wire, _ = soak.build("npm", name, "0.1.0", 2048)
            st, body = self.reg.publish("npm", name, "0.1.0", wire)
            assert st in (200, 201), (st, body)

    def request(self, rng):
        """(kind, raw request bytes, expected statuses)."""
        name = rng.choice(self.names)
        host = "Host: 127.0.0.1:%d\r\n" % self.reg.port
        r = rng.random()
        if r < 0.04 or r > 0.96:
            self.versions += 1
            version = "1.%d.0" % self.versions
            if r < 0.04:
                wire, _ = soak.build("native", name, version, 1024)
                body, ctype = soak.multipart_body([
                    soak.Part("tarball", wire, "package.tar.gz", "application/gzip"),
                    soak.Part("metadata", json.dumps(soak.manifest(name, version)), None,
                              "application/json")])
                return "publish native", ("POST /api/v1/packages HTTP/1.1\r\n%sAuthorization: "
                                          "Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d"
                                          "\r\n\r\n" % (host, self.reg.token, ctype, len(body))
                                          ).encode() + body, (201,)
            npm = rng.choice(self.npm_names)
            wire, _ = soak.build("npm", npm, version, 1024)
            body = json.dumps(soak.publish_doc(npm, version, tarball=wire,
                                               registry=self.reg.base + "/npm/")).encode()
            return "publish npm", ("PUT /npm/%s HTTP/1.1\r\n%sAuthorization: Bearer %s\r\n"
                                   "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                                   % (npm, host, self.reg.token, len(body))).encode() + body, \
                (200, 201)
        kinds = [("package", "/api/v1/packages/" + name),
                 ("version", "/api/v1/packages/%s/versions/0.1.0" % name),
                 ("download", "/api/v1/packages/%s/versions/0.1.0/download" % name),
                 ("search", "/api/v1/search?q=soak"),
                 ("npm packument", "/npm/" + rng.choice(self.npm_names)),
                 ("health", "/health")]
        kind, path = rng.choice(kinds)
        return kind, ("GET %s HTTP/1.1\r\n%s\r\n" % (path, host)).encode(), (200,)

    async def client(self, i, deadline):
        rng = random.Random(i)
        await asyncio.sleep(rng.random())  # spread the connects over a second
        try:
            reader, writer = await asyncio.open_connection(self.reg.host, self.reg.port)
        except OSError as e:
            self.unexpected.append(("connect", str(e)))
            return
        try:
            while time.monotonic() < deadline:
                kind, raw, want = self.request(rng)
                t = time.monotonic()
                try:
                    writer.write(raw)
                    await writer.drain()
                    status, body, headers = await asyncio.wait_for(read_response(reader), 60)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
                    self.unexpected.append((kind, "connection failed: %r" % e))
                    return
                self.lat.setdefault(kind, []).append(time.monotonic() - t)
                self.counts[status] = self.counts.get(status, 0) + 1
                if status not in want:
                    self.unexpected.append((kind, "%d %r" % (status, body[:200])))
                if headers.get("connection", "").lower() == "close":
                    self.unexpected.append((kind, "the server closed a keep-alive connection"))
                    return
        finally:
            writer.close()

    async def run(self):
        deadline = time.monotonic() + 1 + self.seconds
        await asyncio.gather(*(self.client(i, deadline) for i in range(CONNS)))


class Slowloris:
    def __init__(self, reg):
        self.reg = reg
        self.normal = []
        self.bad = []
        self.open_at_end = 0

    async def slow(self, i, stop):
        try:
            reader, writer = await asyncio.open_connection(self.reg.host, self.reg.port)
        except OSError as e:
            self.bad.append("slow connect: %s" % e)
            return
        head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4096
        try:
            await asyncio.sleep(random.random() * SLOW_INTERVAL)
            for b in head:
                if stop.is_set():
                    break
                writer.write(bytes([b]))
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(1), SLOW_INTERVAL)
                    if not data:
                        return  # closed by the server
                except asyncio.TimeoutError:
                    pass
            self.open_at_end += 1
        except OSError:
            return
        finally:
            writer.close()

    async def normal_client(self, stop):
        name = soak.names_for("native", "load0")
        while not stop.is_set():
            t = time.monotonic()
            try:
                reader, writer = await asyncio.open_connection(self.reg.host, self.reg.port)
                writer.write(("GET /api/v1/packages/%s HTTP/1.1\r\nHost: x\r\nConnection: close"
                              "\r\n\r\n" % name).encode())
                await writer.drain()
                status, _, _ = await asyncio.wait_for(read_response(reader), 30)
                writer.close()
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
                self.bad.append("normal client: %r" % e)
                status = None
            secs = time.monotonic() - t
            self.normal.append(secs)
            if status != 200 or secs > NORMAL_MAX:
                self.bad.append("normal client: %s after %.2fs" % (status, secs))
            await asyncio.sleep(0.2)

    async def run(self):
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(self.slow(i, stop)) for i in range(SLOW)]
        await asyncio.sleep(SLOW_INTERVAL + 1)  # every slow connection has started
        normal = asyncio.ensure_future(self.normal_client(stop))
        await asyncio.sleep(SLOW_SECONDS)
        stop.set()
        await normal
        await asyncio.gather(*tasks)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] if xs else 0.0


def main():
    seconds = float(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SECONDS", "10"))
    reg = soak.Registry(extra_args=["--max-connections", "4096", "--max-connections-per-ip", "0"])
    reg.start()
    problems = []
    try:
        reg.setup_account()
        load = Load(reg, seconds)
        load.setup()
        pid = reg.depot.proc.pid
        # Warm up (threads, connections to the store, caches) before the baseline.
        for _ in range(3):
            for name in load.names:
                reg.call("GET", "/api/v1/packages/" + name)
                reg.call("GET", "/api/v1/packages/%s/versions/0.1.0/download" % name)
        time.sleep(0.5)
        fd0, rss0 = proc_fds(pid), proc_rss_kib(pid)
        t0 = time.monotonic()
        asyncio.run(load.run())
        secs = time.monotonic() - t0 - 1
        peak_fd, peak_rss = proc_fds(pid), proc_rss_kib(pid)
        time.sleep(3)  # connections closed, downloads flushed
        fd1, rss1 = proc_fds(pid), proc_rss_kib(pid)
        total = sum(len(v) for v in load.lat.values())
        print("load: %d connections for %.0fs: %d requests (%.0f/s), statuses %s, %d unexpected"
              % (CONNS, seconds, total, total / secs, dict(sorted(load.counts.items())),
                 len(load.unexpected)))
        print("  %-16s %7s %8s %8s %8s %8s" % ("kind", "count", "p50 ms", "p90 ms", "p99 ms",
                                               "max ms"))
        alll = []
        for kind in sorted(load.lat):
            xs = load.lat[kind]
            alll += xs
            print("  %-16s %7d %8.1f %8.1f %8.1f %8.1f" % (kind, len(xs), pct(xs, 50) * 1e3,
                                                           pct(xs, 90) * 1e3, pct(xs, 99) * 1e3,
                                                           max(xs) * 1e3))
        print("  %-16s %7d %8.1f %8.1f %8.1f %8.1f" % ("all", len(alll), pct(alll, 50) * 1e3,
                                                       pct(alll, 90) * 1e3, pct(alll, 99) * 1e3,
                                                       max(alll) * 1e3 if alll else 0))
        print("  descriptors: %d before, %d at the end of the load, %d after (allowed +%d)"
              % (fd0, peak_fd, fd1, FD_SLACK))
        print("  RSS: %.1f MiB before, %.1f MiB at the end, %.1f MiB after (allowed +%d MiB)"
              % (rss0 / 1024, peak_rss / 1024, rss1 / 1024, RSS_SLACK_MIB))
        for kind, what in load.unexpected[:20]:
            problems.append("load, %s: %s" % (kind, what))
        if len(load.unexpected) > 20:
            problems.append("... and %d more unexpected answers" % (len(load.unexpected) - 20))
        if not total:
            problems.append("load: no request was answered")
        if fd1 > fd0 + FD_SLACK:
            problems.append("descriptors grew from %d to %d" % (fd0, fd1))
        if rss1 > rss0 + RSS_SLACK_MIB * 1024:
            problems.append("RSS grew from %.1f to %.1f MiB" % (rss0 / 1024, rss1 / 1024))

        slow = Slowloris(reg)
        asyncio.run(slow.run())
        print("slowloris: %d connections sending a byte every %.0fs for %.0fs; %d still open at "
              "the end; the normal client: %d answers, p50 %.1f ms, max %.1f ms (allowed %.0f ms)"
              % (SLOW, SLOW_INTERVAL, SLOW_SECONDS, slow.open_at_end, len(slow.normal),
                 pct(slow.normal, 50) * 1e3, max(slow.normal or [0]) * 1e3, NORMAL_MAX * 1e3))
        problems += ["slowloris: " + b for b in slow.bad[:20]]
        if not slow.normal:
            problems.append("slowloris: the normal client got no answer")
        if not reg.depot.alive():
            problems.append("the server died")
    finally:
        reg.depot.close(keep=bool(problems))
    for p in problems:
        print("PROBLEM: " + p)
    print("load: %s" % ("ok" if not problems else "FAILED"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
