"""
s3.py — a throwaway S3-compatible server for the tests: s3rver (from the npm registry, pinned in
tests/s3rver/package.json and package-lock.json, installed there by `npm ci`) on a free loopback
port, with its data in a temp folder removed at stop.

    s3 = S3Server(bucket="depot")    # s3 = S3Server.start_or_skip(testcase) in unittest code
    s3.start()                       # npm ci when needed, then s3rver on 127.0.0.1:<free port>
    s3.url                           # s3://depot?endpoint=http://127.0.0.1:PORT&...&path_style=1
    s3.vhost_url                     # the same bucket addressed as depot.s3.localhost:PORT
    s3.stop(); s3.start()            # down and up again on the same port, data kept (fault tests)
    s3.objects()                     # the keys stored in the bucket, read from s3rver's folder
    s3.close()                       # stops it and removes its folder

As a command it runs another command with DEPOT_TEST_S3_URL and DEPOT_TEST_S3_VHOST_URL set to a
fresh server (the unit test tests/unit/blob/test_s3.c uses them), and returns its exit code; when
s3rver cannot be had (no Node.js, no npm registry) the command runs without them:

    python3 tests/harness/s3.py -- build/tests/blob/test_s3

s3rver does not check SigV4 signatures (it takes any well-formed one); the signing is checked
against published test vectors in tests/unit/lib/test_sigv4.c. Its credentials are S3RVER/S3RVER.
"""

import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_DIR = os.path.abspath(os.path.join(HERE, "..", "s3rver"))
S3RVER_JS = os.path.join(PKG_DIR, "node_modules", "s3rver", "bin", "s3rver.js")
ACCESS_KEY = SECRET_KEY = "S3RVER"

_live = set()


def _kill_leftovers():
    for s in list(_live):
        s._kill()


import atexit  # noqa: E402

atexit.register(_kill_leftovers)


class Unavailable(Exception):
    """Node.js or npm is missing, or the npm registry could not be reached: the tests skip."""


def ensure_installed():
    """Runs `npm ci` in tests/s3rver when node_modules is missing or older than package-lock.json.
    Serialised with a lock file, since test classes start side by side."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise Unavailable("node and npm are needed to run s3rver (scripts/install-deps test)")
    lock_json = os.path.join(PKG_DIR, "package-lock.json")
    with open(lock_json, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(PKG_DIR, "node_modules", ".depot-lock-sha256")
    with open(os.path.join(tempfile.gettempdir(), "depot-s3rver-npm-ci.lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        try:
            with open(stamp) as f:
                if f.read().strip() == want and os.path.exists(S3RVER_JS):
                    return
        except OSError:
            pass
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PKG_DIR,
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise Unavailable("npm ci in tests/s3rver failed: " + (r.stderr or r.stdout)[-800:])
        with open(stamp, "w") as f:
            f.write(want + "\n")


class S3Server:
    def __init__(self, bucket="depot", region="us-east-1"):
        self.bucket = bucket
        self.region = region
        self.root = tempfile.mkdtemp(prefix="depot-s3rver-")
        self.port = None
        self.proc = None
        self.log = []
        self._reader = None

    # ---- process --------------------------------------------------------------------------

    def start(self, timeout=20.0):
        """Starts s3rver (on the port it had, when started before) and waits until it listens."""
        ensure_installed()
        args = ["node", S3RVER_JS, "--directory", self.root, "--address", "127.0.0.1",
                "--port", str(self.port or 0), "--service-endpoint", "localhost",
                "--configure-bucket", self.bucket, "--silent"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        _live.add(self)
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.log.append(line)
                m = re.search(r"listening on [\d.]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._kill()
                raise RuntimeError("s3rver did not start:\n" + "".join(self.log[-30:]))
        return self

    def stop(self):
        """Stops the server; its data stays for a later start()."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self._kill()
        if self._reader:
            self._reader.join(2)
        _live.discard(self)

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        _live.discard(self)

    def close(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    def start_or_skip(cls, testcase, **kw):
        """A started server, or unittest.SkipTest when Node.js or the npm registry is missing."""
        import unittest
        s = cls(**kw)
        try:
            s.start()
        except Unavailable as e:
            s.close()
            raise unittest.SkipTest(str(e))
        return s

    # ---- addresses --------------------------------------------------------------------------

    def _url(self, endpoint, path_style, prefix="", **options):
        opts = {"endpoint": endpoint, "region": self.region, "path_style": path_style,
                "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
        opts.update(options)
        q = "&".join("%s=%s" % (k, v) for k, v in opts.items())
        return "s3://%s%s?%s" % (self.bucket, "/" + prefix if prefix else "", q)

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def url(self):
        return self._url(self.endpoint, 1)

    @property
    def vhost_url(self):
        # s3rver (--service-endpoint localhost) takes the bucket from a Host of BUCKET.s3.localhost;
        # libcurl resolves every *.localhost name to the loopback address.
        return self._url("http://s3.localhost:%d" % self.port, 0)

    def url_with(self, prefix="", **options):
        """The path-style URL with a key prefix and more options (retries=1, cache=0, ...)."""
        return self._url(self.endpoint, 1, prefix, **options)

    # ---- contents -------------------------------------------------------------------------------

    def objects(self):
        """Keys in the bucket, from s3rver's folder (it keeps KEY._S3rver_object files)."""
        base = os.path.join(self.root, self.bucket)
        out = []
        for dirpath, _, files in os.walk(base):
            for f in files:
                if f.endswith("._S3rver_object"):
                    rel = os.path.relpath(os.path.join(dirpath, f), base)
                    out.append(rel[:-len("._S3rver_object")])
        return sorted(out)


def main(argv):
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        sys.stderr.write("usage: s3.py -- COMMAND [ARGS...]\n")
        return 2
    s = S3Server(bucket="depot-test")
    try:
        s.start()
    except Unavailable as e:
        # The command still runs; the tests that need S3 skip without the variables.
        sys.stderr.write("s3.py: no S3 server for this run: %s\n" % e)
        s.close()
        return subprocess.call(argv)
    try:
        env = dict(os.environ)
        env["DEPOT_TEST_S3_URL"] = s.url
        env["DEPOT_TEST_S3_VHOST_URL"] = s.vhost_url
        return subprocess.call(argv, env=env)
    finally:
        s.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
