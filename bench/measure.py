"""
bench/measure.py — the measurements of `make bench` that wrk cannot make: wall time of the real
npm CLI installing a tree from a cold cache, publish races through the HTTP APIs, the delay
before a publish is visible, server start time and memory (from /proc/PID/status), the document
cache's gauge, and instructions per request under callgrind. Python 3 standard library only;
every server these functions start they also stop.
"""

import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time

HOST = "127.0.0.1"


class MeasureError(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port."""

    def __init__(self, port, timeout=60):
        self.port = port
        self.timeout = timeout
        self.c = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers as a dict with lower-case names, body bytes)."""
        try:
            self.c.request(method, path, body=body, headers=headers or {})
            r = self.c.getresponse()
        except (http.client.HTTPException, OSError):
            # the server may close an idle connection; one fresh try
            self.c.close()
            self.c = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            self.c.request(method, path, body=body, headers=headers or {})
            r = self.c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def close(self):
        self.c.close()


def percentile(values, p):
    """The p-th percentile (0..100) by nearest rank."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# ---- the npm CLI ------------------------------------------------------------------------------


def npm_env(home):
    """npm's own defaults: no user .npmrc, no npm_config_* from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    env["HOME"] = home
    return env


def npm_install(registry, root, root_package, expect, runs):
    """Wall times (seconds) of `npm install` of a project depending on root_package, each run
    with an empty --cache folder, no node_modules and no lockfile; expect: how many packages
    node_modules must hold afterwards."""
    project = os.path.join(root, "project")
    home = os.path.join(root, "home")
    os.makedirs(home, exist_ok=True)
    times = []
    for run in range(runs):
        shutil.rmtree(project, ignore_errors=True)
        os.makedirs(project)
        with open(os.path.join(project, "package.json"), "w") as f:
            json.dump({"name": "bench-project", "version": "1.0.0", "private": True,
                       "dependencies": {root_package: "^1.0.0"}}, f)
        cache = os.path.join(root, "cache-%d" % run)
        cmd = ["npm", "install", "--registry", registry, "--cache", cache, "--no-audit", "--no-fund",
               "--no-update-notifier", "--ignore-scripts", "--loglevel", "error"]
        t0 = time.monotonic()
        p = subprocess.run(cmd, cwd=project, env=npm_env(home), capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=600)
        elapsed = time.monotonic() - t0
        if p.returncode != 0:
            raise MeasureError("npm install from %s failed: %s" % (registry, (p.stdout + p.stderr)[-600:]))
        got = len(glob.glob(os.path.join(project, "node_modules", "*", "package.json")))
        if got != expect:
            raise MeasureError("npm install from %s left %d packages, not %d" % (registry, got, expect))
        shutil.rmtree(cache, ignore_errors=True)
        times.append(elapsed)
    shutil.rmtree(project, ignore_errors=True)
    return times


def put_documents(port, prefix, docs, authorization):
    """PUTs each npm publish document to prefix + name, one after another on one keep-alive
    connection (as one `npm publish` after another would); returns seconds."""
    bodies = [(prefix + doc["name"], json.dumps(doc).encode()) for _, doc in docs]
    c = Conn(port)
    headers = {"Content-Type": "application/json", "Authorization": authorization,
               "npm-command": "publish"}
    try:
        t0 = time.monotonic()
        for path, body in bodies:
            status, _, out = c.request("PUT", path, body, headers)
            if status not in (200, 201):
                raise MeasureError("PUT %s: %d %r" % (path, status, out[:300]))
        return time.monotonic() - t0
    finally:
        c.close()


# ---- native publishes -------------------------------------------------------------------------


def publish_race(port, bodies, publishers):
    """Publishes the prepared (body, content type) pairs through POST /api/v1/packages from
    `publishers` threads, each on its own keep-alive connection; returns (publishes per second,
    [error lines])."""
    errors = []
    lock = threading.Lock()
    queue = list(reversed(bodies))
    start = threading.Barrier(publishers + 1)

    def worker():
        c = Conn(port)
        start.wait()
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    body, headers = queue.pop()
                status, _, out = c.request("POST", "/api/v1/packages", body, headers)
                if status != 201:
                    with lock:
                        errors.append("%d %r" % (status, out[:200]))
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(publishers)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    return len(bodies) / (time.monotonic() - t0), errors


def visibility_delays(port, name, bodies):
    """For each prepared publish of name (versions in order), the milliseconds from its 201 to
    the answer of a GET of the package JSON that lists the version (GETs repeated until it
    does, on a second connection)."""
    pub, reader = Conn(port), Conn(port)
    delays = []
    try:
        for version, body, headers in bodies:
            status, _, out = pub.request("POST", "/api/v1/packages", body, headers)
            if status != 201:
                raise MeasureError("publish %s %s: %d %r" % (name, version, status, out[:200]))
            t0 = time.monotonic()
            while True:
                status, _, out = reader.request("GET", "/api/v1/packages/" + name)
                if status == 200 and any(v["version"] == version for v in json.loads(out)["versions"]):
                    break
                if time.monotonic() - t0 > 10:
                    raise MeasureError("%s %s not visible after 10 s" % (name, version))
            delays.append((time.monotonic() - t0) * 1000)
    finally:
        pub.close()
        reader.close()
    return delays


# ---- server processes -------------------------------------------------------------------------


def free_port():
    s = socket.socket()
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _health_ok(port):
    try:
        s = socket.create_connection((HOST, port), timeout=1)
    except OSError:
        return False
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


class Server:
    """`depot serve` on a data folder, started here so the time from exec to the first 200 on
    /health can be taken; its stderr goes to a file in root."""

    def __init__(self, cmd, root, name, timeout=30):
        self.port = free_port()
        self.log_path = os.path.join(root, name + ".log")
        self.log = open(self.log_path, "wb")
        t0 = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
        self.proc = subprocess.Popen(cmd + ["--listen", "%s:%d" % (HOST, self.port)], env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        while not _health_ok(self.port):
            if self.proc.poll() is not None or time.monotonic() - t0 > timeout:
                self.stop()
                raise MeasureError("%s did not start: %s" % (name, self.tail()))
            time.sleep(0.001)
        self.start_ms = (time.monotonic() - t0) * 1000
        self.pid = self.proc.pid

    def tail(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-1500:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def proc_status(pid):
    """VmRSS and VmHWM of a process, in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


class RssSampler(threading.Thread):
    """The largest VmRSS seen, sampling every 20 ms until stop()."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                self.peak = max(self.peak, proc_status(self.pid)["VmRSS"])
            except (OSError, KeyError):
                return
            self.done.wait(0.02)

    def stop(self):
        self.done.set()
        self.join()
        return self.peak


def metric(port, name):
    """The value of one sample of GET /metrics, or None when the server has no such metric."""
    c = Conn(port)
    try:
        status, _, out = c.request("GET", "/metrics")
    finally:
        c.close()
    m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), out.decode(), re.M)
    return float(m.group(1)) if m else None


def read_many(port, paths, readers=4):
    """GETs every path once, from `readers` threads on keep-alive connections; returns how many
    did not answer 200."""
    bad = [0]
    lock = threading.Lock()
    queue = list(paths)

    def worker():
        c = Conn(port)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    path = queue.pop()
                status, _, _ = c.request("GET", path)
                if status != 200:
                    with lock:
                        bad[0] += 1
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return bad[0]


# ---- callgrind ------------------------------------------------------------------------------


def _callgrind_control(option, pid):
    p = subprocess.run(["callgrind_control", option, str(pid)], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    if p.returncode != 0 or "OK" not in p.stdout:
        raise MeasureError("callgrind_control %s: %s%s" % (option, p.stdout, p.stderr))


def instructions_per_request(serve_cmd, root, requests, n, batches=2):
    """Starts `serve_cmd` under callgrind and, for each (name, path, headers) in requests, warms the
    path, then `batches` times: zeroes the counters, sends n GETs on one keep-alive connection,
    dumps and divides the instructions counted (all threads) by n. Returns ({name: [per batch]},
    {name: [(function, share of the instructions)] of the last batch, largest first})."""
    out_file = os.path.join(root, "callgrind.out")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_file] + serve_cmd
    server = Server(cmd, root, "callgrind", timeout=300)
    results, tops = {}, {}
    try:
        c = Conn(server.port)
        for name, path, headers in requests:
            for _ in range(20):
                status, _, body = c.request("GET", path, headers=headers)
                if status != 200:
                    raise MeasureError("%s under callgrind: %d %r" % (name, status, body[:200]))
            results[name] = []
            for _ in range(batches):
                _callgrind_control("-z", server.pid)
                for _ in range(n):
                    c.request("GET", path, headers=headers)
                before = set(glob.glob(out_file + ".*"))
                _callgrind_control("-d", server.pid)
                dumps = sorted(set(glob.glob(out_file + ".*")) - before)
                if not dumps:
                    raise MeasureError("callgrind wrote no dump")
                with open(dumps[-1]) as f:
                    m = re.search(r"^(?:totals|summary):\s+(\d+)", f.read(), re.M)
                if not m:
                    raise MeasureError("no totals in " + dumps[-1])
                results[name].append(int(m.group(1)) / n)
            costs = callgrind_self_costs(dumps[-1])
            total = sum(costs.values()) or 1
            tops[name] = [(f, v / total) for f, v in sorted(costs.items(), key=lambda x: -x[1])[:5]]
        c.close()
    finally:
        server.stop()
    return results, tops


def callgrind_self_costs(path):
    """Instructions spent in each function itself (not its callees) in a callgrind dump:
    {function name: Ir}. Functions of stripped libraries are named by address."""
    names, costs = {}, {}
    fn, after_call = None, False

    def name_of(ref):
        m = re.match(r"\((\d+)\)(?: (.*))?$", ref)
        if not m:
            return ref
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), m.group(1))

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                fn = name_of(line[3:])
            elif line.startswith("cfn="):
                name_of(line[4:])
            elif line.startswith("calls="):
                after_call = True  # the next cost line is the call's inclusive cost
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) >= 2 and not after_call:
                    costs[fn] = costs.get(fn, 0) + int(parts[1])
                after_call = False
    return costs


def median(values):
    return statistics.median(values)
