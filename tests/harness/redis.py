"""
redis.py — a throwaway Redis for the tests: Debian's redis-server on a free loopback port, with
no persistence (no RDB snapshots, no append-only file) and its working folder in a temp dir,
stopped and removed at close (and killed at interpreter exit, whatever happens).

    r = RedisServer()                # r = RedisServer.start_or_skip(testcase) in unittest code
    r.start()                        # waits until it answers PING
    r.url                            # redis://127.0.0.1:PORT/0
    r.command("GET", "k")            # one command, RESP over a socket (no client library needed)
    r.stop(); r.start()              # down and up again on the same port (fault tests)
    r.close()

As a command it runs another command with DEPOT_TEST_REDIS_URL set to a fresh server (the unit
test tests/unit/lib/test_ratelimit_redis.c uses it):

    python3 tests/harness/redis.py -- build/tests/lib/test_ratelimit_redis
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

_live = set()


@atexit.register
def _kill_leftovers():
    for r in list(_live):
        r._kill()


class Unavailable(Exception):
    """redis-server is not installed: the tests skip."""


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class RedisServer:
    def __init__(self, databases=4):
        self.databases = databases
        self.binary = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
        self.root = tempfile.mkdtemp(prefix="depot-redis-")
        self.port = None
        self.proc = None

    def start(self, timeout=10.0):
        if not self.binary:
            raise Unavailable("redis-server is not installed (scripts/install-deps test)")
        tries = 1 if self.port else 3  # a new free port may be taken by someone else meanwhile
        for _ in range(tries):
            port = self.port or _free_port()
            args = [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", self.root, "--daemonize", "no",
                    "--logfile", os.path.join(self.root, "redis.log"), "--databases", str(self.databases)]
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
            _live.add(self)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self._command_on(port, "PING") == "PONG":
                        self.port = port
                        return self
                except OSError:
                    time.sleep(0.05)
            self._kill()
        raise RuntimeError("redis-server did not start; its log:\n" + self.log_tail())

    def log_tail(self, n=30):
        try:
            with open(os.path.join(self.root, "redis.log")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self):
        """Stops the server (its data goes with it: nothing is persisted)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self._kill()
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
    def start_or_skip(cls, testcase=None):
        import unittest
        r = cls()
        try:
            r.start()
        except Unavailable as e:
            r.close()
            raise unittest.SkipTest(str(e))
        return r

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    # ---- a minimal RESP client --------------------------------------------------------------

    def command(self, *args):
        return self._command_on(self.port, *args)

    @staticmethod
    def _command_on(port, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(out)
            f = s.makefile("rb")
            return _read_reply(f)


def _read_reply(f):
    line = f.readline()
    if not line:
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:n]
        return data.decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise OSError("bad reply %r" % line)


def main(argv):
    """redis.py -- COMMAND...: runs COMMAND with DEPOT_TEST_REDIS_URL set to a fresh server."""
    import sys
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        sys.stderr.write("usage: redis.py -- COMMAND [ARGS...]\n")
        return 2
    r = RedisServer()
    try:
        r.start()
    except Unavailable as e:
        # The command still runs; the tests that need Redis skip without the variable.
        sys.stderr.write("redis.py: no Redis for this run: %s\n" % e)
        r.close()
        return subprocess.call(argv)
    try:
        env = dict(os.environ)
        env["DEPOT_TEST_REDIS_URL"] = r.url
        return subprocess.call(argv, env=env)
    finally:
        r.close()


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
