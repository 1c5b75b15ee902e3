"""
depot.py — black-box harness for the depot server binary (Python 3 standard library only).

    d = Depot(extra_args=["--registration", "closed"])
    d.start()                        # fresh temp data dir, ephemeral port, waits for "listening"
    r = d.request("GET", "/health")  # -> Response(status, headers, body); r.json()
    d.cli("user", "add", "alice", "--email", "a@example.com", "--password-stdin", input="pw")
    d.restart()                      # same data dir, new port
    d.stop()                         # -> exit code
    d.close(keep=failed)             # removes the temp dir unless keep
    d.publish(tgz, metadata={...}, auth=bearer(jwt))   # native multipart publish

The binary comes from $DEPOT_BIN (default: build/depot at the repo root), started under
$DEPOT_WRAPPER when set (a command line such as valgrind's, put before the binary's). Every server runs on
127.0.0.1 only. The harness never inherits DEPOT_* variables from the caller's environment except
DEPOT_BIN, so a developer's shell settings cannot leak into a test.

The store: SQLite in the data dir, unless $DEPOT_TEST_PG names a PostgreSQL cluster (tests/api/run.py
--store postgres starts a throwaway one and sets it): then every Depot gets a fresh database of its
own there (DEPOT_STORE for the server and the CLI; dropped by close()), unless the test chose a
store itself (--store, DEPOT_STORE or a config `store`).

Blobs and rate limits likewise: with $DEPOT_TEST_S3 (an s3:// URL of a throwaway bucket; run.py
--blobs s3) every Depot keeps its blobs under a key prefix of its own in that bucket (DEPOT_BLOBS),
and with $DEPOT_TEST_REDIS (a redis:// URL without a database; run.py --redis) it counts its rate
limits in a Redis database of its own (DEPOT_REDIS), unless the test chose `blobs` or `redis`.
"""

import atexit
import base64
import http.client
import json as jsonlib
import os
import re
import shutil
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Cheap Argon2id cost so registration/login take milliseconds (libsodium's minimum memory).
CHEAP_HASH_ARGS = ["--argon2-ops", "1", "--argon2-mem", "8192"]


def depot_bin():
    return os.path.abspath(os.environ.get("DEPOT_BIN") or os.path.join(REPO, "build", "depot"))


def wrapper():
    """$DEPOT_WRAPPER split into words: a command every server is started under (e.g.
    `valgrind --error-exitcode=99`), empty when unset. Under one, start and stop wait longer
    (WRAPPER_SLOWDOWN times)."""
    return shlex.split(os.environ.get("DEPOT_WRAPPER", ""))


WRAPPER_SLOWDOWN = 10


def wrapped(seconds):
    """A time limit for waiting on a server: WRAPPER_SLOWDOWN times longer under a wrapper."""
    return seconds * WRAPPER_SLOWDOWN if wrapper() else seconds

# $DEPOT_TEST_HEX_KEY_CACHE (tests/api/run.py and tests/soak/memcheck.py set it): a file for the
# Hex repository key the first server of the run generated, given to every later server's fresh
# data folder, unless it was made with own_hex_key=True. RSA key generation takes from 20 s to over
# 100 s under valgrind, and a second or more of CPU, of a spread that grows with the load, at
# every start elsewhere; the generating code stays checked by the servers that generate.

# How AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer start a report.
SANITIZER = re.compile(r"==\d+==ERROR: (Address|Leak)Sanitizer|: runtime error: ")
# A credential as the server hands it out: an API token, or a JWT (sessions, npm and pub logins).
SECRET = re.compile(r"dpt_[A-Za-z0-9_-]{43}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def free_port():
    """A port that was free on 127.0.0.1 a moment ago (for programs that cannot take port 0)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def basic(login, password):
    raw = ("%s:%s" % (login, password)).encode()
    return "Basic " + base64.b64encode(raw).decode()


def bearer(token):
    return "Bearer " + token


class Part:
    """One part of a multipart/form-data body: a field (filename None) or a file."""

    def __init__(self, name, data, filename=None, content_type=None):
        self.name = name
        self.data = data.encode() if isinstance(data, str) else bytes(data)
        self.filename = filename
        self.content_type = content_type


def multipart_body(parts, boundary=None):
    """Encodes parts (Part objects, or (name, data) / (name, data, filename[, content_type])
    tuples) as multipart/form-data; returns (body bytes, Content-Type header value)."""
    boundary = boundary or "depot-test-" + base64.b16encode(os.urandom(12)).decode().lower()
    out = []
    for p in parts:
        if not isinstance(p, Part):
            p = Part(*p)
        disp = 'form-data; name="%s"' % p.name
        if p.filename is not None:
            disp += '; filename="%s"' % p.filename
        head = "--%s\r\nContent-Disposition: %s\r\n" % (boundary, disp)
        ctype = p.content_type or ("application/octet-stream" if p.filename is not None else None)
        if ctype:
            head += "Content-Type: %s\r\n" % ctype
        out.append(head.encode() + b"\r\n" + p.data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


# --------------------------------------------------------------------------------------------
# Responses


class Headers:
    """Case-insensitive, multi-valued response headers."""

    def __init__(self, pairs):
        self._pairs = [(k, v) for k, v in pairs]

    def get(self, name, default=None):
        n = name.lower()
        for k, v in self._pairs:
            if k.lower() == n:
                return v
        return default

    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self._pairs if k.lower() == n]

    def __getitem__(self, name):
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __contains__(self, name):
        return self.get(name) is not None

    def items(self):
        return list(self._pairs)

    def __repr__(self):
        return "Headers(%r)" % (self._pairs,)


class Response:
    def __init__(self, status, headers, body, reason="", method=None, path=None):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.method = method
        self.path = path

    def json(self):
        return jsonlib.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def describe(self, limit=600):
        """One-paragraph summary for assertion messages."""
        body = self.text
        if len(body) > limit:
            body = body[:limit] + "...(%d bytes)" % len(self.body)
        return "%s %s -> %s %s [x-request-id=%s] body=%r" % (
            self.method, (self.path or "")[:120], self.status, self.reason,
            self.headers.get("X-Request-Id"), body)

    def __repr__(self):
        return "<Response %s>" % self.describe(200)


def parse_http_response(data):
    """Parses one complete HTTP/1.x response from bytes; returns (Response, rest) or None when
    the bytes do not hold a full response yet."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = data[:end].decode("iso-8859-1")
    rest = data[end + 4:]
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError("not an HTTP response: %r" % lines[0][:200])
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    pairs = []
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            pairs.append((k.strip(), v.strip()))
    headers = Headers(pairs)
    if status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, b"", reason), rest
    te = (headers.get("Transfer-Encoding") or "").lower()
    if "chunked" in te:
        body = b""
        buf = rest
        while True:
            nl = buf.find(b"\r\n")
            if nl < 0:
                return None
            size = int(buf[:nl].split(b";")[0].strip() or b"0", 16)
            if size == 0:
                # skip trailers
                t = buf.find(b"\r\n\r\n", nl)
                if buf[nl + 2:nl + 4] == b"\r\n":
                    return Response(status, headers, body, reason), buf[nl + 4:]
                if t < 0:
                    return None
                return Response(status, headers, body, reason), buf[t + 4:]
            if len(buf) < nl + 2 + size + 2:
                return None
            body += buf[nl + 2:nl + 2 + size]
            buf = buf[nl + 2 + size + 2:]
    cl = headers.get("Content-Length")
    if cl is not None:
        n = int(cl)
        if len(rest) < n:
            return None
        return Response(status, headers, rest[:n], reason), rest[n:]
    return None  # body runs to the close of the connection


class RawConn:
    """A plain TCP connection for hand-crafted requests: partial sends, slow bodies, oversized
    headers, chunked bodies. Sending to a peer that closed is not an error (send returns False)."""

    def __init__(self, host, port, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False
        self.reset = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.reset = True
            return False

    def _recv(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("timed out waiting for the server")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            self.reset = True
            self.eof = True
            return b""
        if not chunk:
            self.eof = True
        self.buf += chunk
        return chunk

    def read_response(self, timeout=10.0):
        """The next response, or None when the server closed without sending one."""
        deadline = time.monotonic() + timeout
        while True:
            if self.buf:
                got = parse_http_response(self.buf)
                if got:
                    resp, self.buf = got
                    return resp
            if self.eof:
                if not self.buf:
                    return None
                # A response without a length ends at the close.
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    raise ValueError("connection closed inside a response head: %r"
                                     % self.buf[:300])
                head = self.buf[:end].decode("iso-8859-1").split("\r\n")
                body = self.buf[end + 4:]
                self.buf = b""
                status_line = head[0].split(" ", 2)
                pairs = []
                for ln in head[1:]:
                    if ":" in ln:
                        k, v = ln.split(":", 1)
                        pairs.append((k.strip(), v.strip()))
                return Response(int(status_line[1]), Headers(pairs), body,
                                status_line[2] if len(status_line) > 2 else "")
            self._recv(deadline)

    def wait_closed(self, timeout=10.0):
        """True when the server closes the connection within timeout (data read is kept)."""
        deadline = time.monotonic() + timeout
        try:
            while not self.eof:
                self._recv(deadline)
        except socket.timeout:
            return False
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Session:
    """One keep-alive HTTP connection for several requests."""

    def __init__(self, depot, timeout=15.0):
        self.depot = depot
        self.conn = http.client.HTTPConnection(depot.host, depot.port, timeout=wrapped(timeout))

    def request(self, method, path, body=None, headers=None, json=None):
        return self.depot._do(self.conn, method, path, body, headers, json, close=False)

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------------------------
# Log lines

_KV = re.compile(r'(\w[\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_log_line(line):
    """A log line as a dict: text form 'ts level msg k=v ...' or a JSON object."""
    line = line.rstrip("\n")
    if line.startswith("{"):
        try:
            return jsonlib.loads(line)
        except ValueError:
            return {"raw": line}
    out = {"raw": line}
    parts = line.split(" ", 3)
    if len(parts) >= 3:
        out["ts"], out["level"], out["msg"] = parts[0], parts[1], parts[2]
    for k, v in _KV.findall(line):
        if v.startswith('"') and v.endswith('"') and len(v) >= 2:
            v = re.sub(r'\\(.)', r'\1', v[1:-1])
        out[k] = v
    return out


# --------------------------------------------------------------------------------------------
# The server


class DepotError(Exception):
    pass


_live = set()  # servers started and not yet seen to exit: killed at interpreter exit


@atexit.register
def _kill_leftovers():
    for d in list(_live):
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


_remote_seq = 0  # servers made by this process (for their own S3 prefix)


def _next_redis_database(url):
    """A Redis database no other server of this run has used: numbers are handed out by INCR on a
    counter in database 0 of the run's Redis, so processes that run side by side (or one after
    another) never share rate-limit counters. Database 0 itself is never handed out."""
    import redis as redis_harness
    port = int(re.match(r"redis://[^/:]+:(\d+)", url).group(1))
    dbs = int(os.environ.get("DEPOT_TEST_REDIS_DBS", "16"))
    n = redis_harness.RedisServer._command_on(port, "INCR", "depot-test:next-database")
    if n >= dbs:
        raise DepotError("the run's Redis has only %d databases; server %d wants one of its own"
                         % (dbs, n))
    return n


def _pg():
    """tests/harness/pg.py, beside this file."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    import pg
    return pg


class Depot:
    """One depot server process on 127.0.0.1 with its own temp data dir.

    extra_args: more `serve` options. env: extra environment (DEPOT_* variables for config tests).
    config: dict or text written to a config file passed as --config (unless config_flag=False).
    defaults: when True (the default) pass --log-format (log_format, "text" unless told), cheap
    Argon2 and, unless
    rate_limit is True, --rate-limit off.
    listen: "127.0.0.1:PORT" to use a fixed port (readiness is then polled through /health, for
    runs whose log level hides the listening line); default port 0 and the listening line.
    own_hex_key: the server generates its Hex key even when $DEPOT_TEST_HEX_KEY_CACHE has one.
    """

    def __init__(self, extra_args=(), env=None, config=None, rate_limit=False, defaults=True,
                 listen=None, base_url=None, binary=None, start_timeout=10.0, name="depot",
                 log_format="text", own_hex_key=False):
        self.store_url = None  # a PostgreSQL database made for this server (see the top)
        self.blobs_url = None  # a key prefix of its own in $DEPOT_TEST_S3's bucket
        self.redis_url = None  # a database of its own in $DEPOT_TEST_REDIS
        self.binary = os.path.abspath(binary) if binary else depot_bin()
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.config = config
        self.rate_limit = rate_limit
        self.defaults = defaults
        self.log_format = log_format
        self.listen = listen
        self.base_url = base_url
        self.start_timeout = start_timeout
        self.own_hex_key = own_hex_key  # generate the Hex key even with the cache above
        self.name = name
        self.root = tempfile.mkdtemp(prefix="depot-test-")
        self.data_dir = os.path.join(self.root, "data")
        os.mkdir(self.data_dir)
        self.config_path = None
        if config is not None:
            self.config_path = os.path.join(self.root, "depot.conf")
            self.write_config(config)
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        self._lines = []          # every stderr line ever read, across restarts
        self._cond = threading.Condition()
        self._reader = None
        self.responses = []       # every Response returned by request()/raw helpers
        self.starts = 0
        self._pg_store()
        self._remote_backends()

    # ---- process ----------------------------------------------------------------------------

    def write_config(self, config):
        if isinstance(config, dict):
            text = "".join("%s = %s\n" % (k, v) for k, v in config.items())
        else:
            text = config
        with open(self.config_path, "w") as f:
            f.write(text)

    def serve_args(self):
        args = [self.binary, "serve", "--listen", self.listen or "127.0.0.1:0",
                "--data", self.data_dir]
        if self.base_url:
            args += ["--base-url", self.base_url]
        if self.config_path:
            args += ["--config", self.config_path]
        if self.defaults:
            args += ["--log-format", self.log_format] + CHEAP_HASH_ARGS
            if not self.rate_limit:
                args += ["--rate-limit", "off"]
        return args + self.extra_args

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
        if self.store_url:
            env["DEPOT_STORE"] = self.store_url
        if self.blobs_url:
            env["DEPOT_BLOBS"] = self.blobs_url
        if self.redis_url:
            env["DEPOT_REDIS"] = self.redis_url
        env.update(self.extra_env)
        return env

    def _pg_store(self):
        """With $DEPOT_TEST_PG, a database of this server's own in that cluster, unless the test
        picked a store. The first one of a process is also put in os.environ as DEPOT_STORE, so
        a test that runs the binary itself against this server's data dir reaches its store."""
        cluster = os.environ.get("DEPOT_TEST_PG")
        conf = self.config if isinstance(self.config, str) else "\n".join(self.config or {})
        if (not cluster or any(a == "--store" or a.startswith("--store=") for a in self.extra_args)
                or "DEPOT_STORE" in self.extra_env or re.search(r"(?m)^\s*store\b", conf)):
            return
        self.store_url = _pg().create_database_at(cluster)
        if not os.environ.get("DEPOT_STORE"):
            os.environ["DEPOT_STORE"] = self.store_url

    def _chose(self, option):
        """Whether the test picked `option` itself (a flag, a DEPOT_ variable or a config key)."""
        conf = self.config if isinstance(self.config, str) else "\n".join(self.config or {})
        return (any(a == "--" + option or a.startswith("--%s=" % option) for a in self.extra_args)
                or "DEPOT_" + option.upper() in self.extra_env
                or re.search(r"(?m)^\s*%s\b" % option, conf) is not None)

    def _remote_backends(self):
        """$DEPOT_TEST_S3 and $DEPOT_TEST_REDIS (see the top): a prefix and a database of this
        server's own, so servers that run side by side never see each other's blobs or counts."""
        global _remote_seq
        _remote_seq += 1
        # pid and sequence tell apart the servers alive at one moment; the random part keeps a
        # later process that is given a recycled pid away from an earlier one's blobs.
        own = "%d-%d-%s" % (os.getpid(), _remote_seq, os.urandom(4).hex())
        s3 = os.environ.get("DEPOT_TEST_S3")
        if s3 and not self._chose("blobs"):
            bucket, _, query = s3.partition("?")
            self.blobs_url = "%s/t%s?%s" % (bucket, own, query)
            if not os.environ.get("DEPOT_BLOBS"):  # as DEPOT_STORE in _pg_store
                os.environ["DEPOT_BLOBS"] = self.blobs_url
        redis = os.environ.get("DEPOT_TEST_REDIS")
        if redis and not self._chose("redis"):
            self.redis_url = "%s/%d" % (redis.rstrip("/"), _next_redis_database(redis))

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def blob_tmp_dir(self):
        """Where uploads wait before they become blobs: the folder store's blobs/tmp, or the S3
        store's local s3-tmp (docs/s3-and-redis.md)."""
        return os.path.join(self.data_dir, "s3-tmp" if self.blobs_url else os.path.join("blobs", "tmp"))

    def start(self):
        if not os.path.exists(self.binary):
            raise DepotError("depot binary not found at %s (set DEPOT_BIN or build it)"
                             % self.binary)
        self.starts += 1
        first_line = len(self._lines)
        self._hex_key_cache(before=True)
        self.proc = subprocess.Popen(wrapper() + self.serve_args(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=self.environment(), cwd=self.root)
        _live.add(self)
        self._reader = threading.Thread(target=self._read_stderr, args=(self.proc,),
                                        daemon=True)
        self._reader.start()
        deadline = time.monotonic() + wrapped(self.start_timeout)
        if self.listen and not self.listen.endswith(":0"):
            self.host, port = self.listen.rsplit(":", 1)
            self.port = int(port)
            self._wait_http(deadline, first_line)
            return self
        addr = None
        with self._cond:
            while addr is None:
                for ln in self._lines[first_line:]:
                    addr = self._listening_addr(ln)
                    if addr:
                        break
                if addr:
                    break
                if self.proc.poll() is not None and not self._reader.is_alive():
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.1))
        if not addr:
            self._fail_start("no listening line within %.0fs" % self.start_timeout, first_line)
        host, port = addr.rsplit(":", 1)
        self.host = host.strip("[]") if host not in ("0.0.0.0", "") else "127.0.0.1"
        self.port = int(port)
        self._hex_key_cache(before=False)
        return self

    def _hex_key_cache(self, before):
        """With $DEPOT_TEST_HEX_KEY_CACHE: before a start, copies the cached Hex key where a
        server without --hex-key looks for it; after a start, caches the key it generated."""
        cache = os.environ.get("DEPOT_TEST_HEX_KEY_CACHE")
        path = os.path.join(self.data_dir, "hex_repo_key.pem")
        if not cache or self.own_hex_key or "--hex-key" in self.extra_args:
            return
        if before and os.path.exists(cache) and not os.path.exists(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f, open(cache, "rb") as src:
                f.write(src.read())
        elif not before and not os.path.exists(cache) and os.path.exists(path):
            tmp = "%s.%d" % (cache, os.getpid())
            shutil.copyfile(path, tmp)
            os.replace(tmp, cache)  # whole, even with test processes side by side

    @staticmethod
    def _listening_addr(line):
        if " listening " in line or line.rstrip().endswith(" listening"):
            m = re.search(r'\baddr="?([^\s"]+)', line)
            if m:
                return m.group(1)
        if line.startswith("{") and '"listening"' in line:
            try:
                obj = jsonlib.loads(line)
                if obj.get("msg") == "listening" and obj.get("addr"):
                    return obj["addr"]
            except ValueError:
                pass
        return None

    def _wait_http(self, deadline, first_line):
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=1)
                conn.request("GET", "/health")
                conn.getresponse().read()
                conn.close()
                return
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
        self._fail_start("not answering on %s:%s" % (self.host, self.port), first_line)

    def _fail_start(self, why, first_line):
        code = self.proc.poll()
        if code is None:
            self.proc.kill()
            self.proc.wait()
            code = self.proc.returncode
        self._reader.join(2)
        lines = "".join(self._lines[first_line:])
        raise DepotError("depot did not start (%s; exit %s)\ncommand: %s\nstderr:\n%s"
                         % (why, code, " ".join(self.serve_args()), lines or "(empty)"))

    def _read_stderr(self, proc):
        for raw in iter(proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace")
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()
            if os.environ.get("DEPOT_TEST_ECHO"):
                sys.stderr.write("[%s] %s" % (self.name, line))
        proc.stderr.close()
        with self._cond:
            self._cond.notify_all()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10.0):
        """Waits for the process to exit, and for its last stderr lines to be read; returns its
        exit code or None on timeout."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._reader:
            self._reader.join(5)
        return code

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signals the server and waits for it; returns the exit code (negative: killed by a
        signal; the harness kills it after timeout and returns that)."""
        if self.proc is None:
            return None
        timeout = wrapped(timeout)
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._lines.append("[harness] depot did not exit %.0fs after %s; killed\n"
                                   % (timeout, signal.Signals(sig).name))
        if self._reader:
            self._reader.join(2)
        _live.discard(self)
        return self.proc.returncode

    def restart(self, sig=signal.SIGTERM):
        code = self.stop(sig)
        self.start()
        return code

    def sanitizer_reports(self):
        """The lines of the server's stderr where ASan, LSan or UBSan (make SAN=1) reported."""
        return [ln for ln in self.stderr_lines() if SANITIZER.search(ln)]

    def secrets_handed_out(self):
        """Every credential this server gave a test: found in the bodies and cookies of every
        response the harness read from it."""
        found = set()
        for r in self.responses:
            found.update(SECRET.findall(r.body.decode("utf-8", "replace")))
            for k, v in r.headers.items():
                if k.lower() == "set-cookie":
                    found.update(SECRET.findall(v))
        return found

    def audit_rows(self):
        """The audit log's entries as text, read from the SQLite database after the server
        stopped (empty on PostgreSQL, or when the server never made one)."""
        db = os.path.join(self.data_dir, "depot.db")
        if self.store_url or not os.path.exists(db):
            return []
        import sqlite3
        try:
            with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as c:
                rows = c.execute("SELECT action, target, detail, ip FROM audit_log").fetchall()
        except sqlite3.Error:
            return []
        return [" ".join(str(v) for v in row) + "\n" for row in rows]

    def secret_reports(self):
        """The lines of the server's log (its stderr: the access log and every other line) and of
        its audit log that hold a credential: one the server handed out here, or anything shaped
        like one. A secret is never logged, whoever sent it where."""
        secrets = self.secrets_handed_out()
        out = []
        for where, lines in (("log", self.stderr_lines()), ("audit", self.audit_rows())):
            for ln in lines:
                if SECRET.search(ln) or any(sec in ln for sec in secrets):
                    out.append("%s: %s" % (where, ln))
        return out

    def close(self, keep=False):
        """Stops the server (if running) and removes the temp dir unless keep. A kept dir gets
        the server's stderr as depot.stderr beside the data dir. A sanitizer report in the
        server's stderr (a memory error, a leak found at exit, undefined behaviour), or a secret
        in its log or audit log, keeps the dir and raises DepotError: a test that passed cannot
        hide one."""
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        reports = self.sanitizer_reports() + self.secret_reports()
        keep = keep or bool(reports)
        if keep:
            try:
                with open(os.path.join(self.root, "depot.stderr"), "w") as f:
                    f.writelines(self._lines)
            except OSError:
                pass
            sys.stderr.write("[harness] kept %s (server stderr in depot.stderr)%s\n"
                             % (self.root, ", store " + self.store_url if self.store_url else ""))
        else:
            shutil.rmtree(self.root, ignore_errors=True)
            if self.store_url:
                try:
                    _pg().drop_database_at(self.store_url)
                except Exception:  # noqa: BLE001 (the cluster goes at the end of the run anyway)
                    pass
        if self.store_url and os.environ.get("DEPOT_STORE") == self.store_url:
            del os.environ["DEPOT_STORE"]
        if self.blobs_url and os.environ.get("DEPOT_BLOBS") == self.blobs_url:
            del os.environ["DEPOT_BLOBS"]
        if reports:
            raise DepotError("the sanitizers reported, or a secret was logged, in depot's stderr "
                             "or audit log (kept in %s):\n%s" % (self.root, "".join(reports[:10])))

    # ---- stderr / logs ----------------------------------------------------------------------

    def stderr_lines(self):
        with self._cond:
            return list(self._lines)

    def stderr_tail(self, n=40):
        return "".join(self.stderr_lines()[-n:])

    def log_entries(self):
        return [parse_log_line(ln) for ln in self.stderr_lines()]

    def access_log(self):
        """Parsed access-log entries (lines that carry both request_id and status)."""
        return [e for e in self.log_entries() if "request_id" in e and "status" in e]

    def wait_for_log(self, pred, timeout=5.0):
        """The first parsed log entry for which pred(entry) is true, waiting up to timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            with self._cond:
                lines = self._lines[seen:]
                seen += len(lines)
            for ln in lines:
                e = parse_log_line(ln)
                if pred(e):
                    return e
            if time.monotonic() >= deadline:
                return None
            with self._cond:
                if len(self._lines) == seen:
                    self._cond.wait(0.05)

    # ---- HTTP -------------------------------------------------------------------------------

    def _do(self, conn, method, path, body, headers, json, close=True):
        hdrs = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            if not any(k.lower() == "content-type" for k in hdrs):
                hdrs["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode()
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            resp = Response(r.status, Headers(r.getheaders()), data, r.reason, method, path)
        finally:
            if close:
                conn.close()
        self.responses.append(resp)
        return resp

    def request(self, method, path, body=None, headers=None, json=None, timeout=15.0,
                auth=None):
        """One request on a new connection. json= sends a JSON body (and its content type);
        auth= is a full Authorization header value."""
        if auth is not None:
            headers = dict(headers or {})
            headers["Authorization"] = auth
        conn = http.client.HTTPConnection(self.host, self.port, timeout=wrapped(timeout))
        return self._do(conn, method, path, body, headers, json)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def session(self, timeout=15.0):
        return Session(self, timeout)

    def raw_conn(self, timeout=10.0):
        return RawConn(self.host, self.port, timeout)

    def raw(self, data, timeout=10.0):
        """Sends bytes as they are on a new connection and reads one response (None when the
        server closed without one)."""
        with self.raw_conn(timeout) as c:
            c.send(data)
            r = c.read_response(timeout)
        if r is not None:
            r.method, r.path = "RAW", data[:60].decode("iso-8859-1", "replace").split("\r\n")[0]
            self.responses.append(r)
        return r

    # ---- account helpers --------------------------------------------------------------------

    def register(self, username, email, password, **kw):
        return self.post("/api/v1/auth/register",
                         json={"username": username, "email": email, "password": password}, **kw)

    def login(self, login, password, field="username", **kw):
        return self.post("/api/v1/auth/login", json={field: login, "password": password}, **kw)

    def jwt(self, login, password, field="username"):
        """Logs in and returns the JWT (raises with the response on failure)."""
        r = self.login(login, password, field)
        if r.status != 200:
            raise DepotError("login as %s failed: %s" % (login, r.describe()))
        return r.json()["token"]

    def show_email(self, auth, show=True, **kw):
        """Lets everyone see (or hides again) the address of the user behind auth."""
        return self.request("PUT", "/api/v1/me/settings", json={"show_email": show}, auth=auth, **kw)

    def create_token(self, auth, name, scopes, expires_at=None, **kw):
        body = {"name": name, "scopes": scopes}
        if expires_at is not None:
            body["expires_at"] = expires_at
        return self.post("/api/v1/tokens", json=body, auth=auth, **kw)

    # ---- packages ---------------------------------------------------------------------------

    def publish(self, tarball=None, metadata=None, signature=None, auth=None,
                path="/api/v1/packages", extra_parts=(), filename="package.tar.gz", **kw):
        """POSTs a native publish: a multipart body with a `tarball` file part (bytes; None
        leaves it out), a `metadata` part (a dict is sent as JSON; a str/bytes as it is; None
        leaves it out), a `signature` part (str/bytes) and any extra parts."""
        parts = []
        if tarball is not None:
            parts.append(Part("tarball", tarball, filename, "application/gzip"))
        if metadata is not None:
            if isinstance(metadata, (dict, list)):
                metadata = jsonlib.dumps(metadata)
            parts.append(Part("metadata", metadata, None, "application/json"))
        if signature is not None:
            parts.append(Part("signature", signature))
        parts.extend(extra_parts)
        body, ctype = multipart_body(parts)
        headers = dict(kw.pop("headers", None) or {})
        headers["Content-Type"] = ctype
        return self.request("POST", path, body=body, headers=headers, auth=auth, **kw)

    def metrics(self):
        """/metrics parsed into {(name, frozenset(labels.items())): value}."""
        r = self.get("/metrics")
        if r.status != 200:
            raise DepotError("GET /metrics: %s" % r.describe())
        return parse_prometheus(r.text)

    # ---- admin CLI --------------------------------------------------------------------------

    def cli(self, *args, input=None, timeout=30.0, env=None):
        """Runs `depot ARGS... --data DIR`; returns a CompletedProcess with text stdout/stderr."""
        cmd = [self.binary] + [str(a) for a in args] + ["--data", self.data_dir]
        e = self.environment()
        if env:
            e.update(env)
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                              env=e, cwd=self.root)


_METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text):
    out = {}
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        m = _METRIC.match(ln.strip())
        if not m:
            continue
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        try:
            v = float(m.group(4))
        except ValueError:
            continue
        out[(m.group(1), labels)] = v
    return out
