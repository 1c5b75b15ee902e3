"""
pg.py — a throwaway PostgreSQL for tests, from Debian's packages (Python 3 standard library only).

    with Cluster() as pg:                 # initdb in a temp dir, trust auth, a free port on 127.0.0.1
        url = pg.create_database()        # a fresh, empty database; "postgresql://postgres@127.0.0.1:PORT/NAME"
        rows = pg.query("SELECT 1", db="postgres")   # [[text or None, ...], ...]
        pg.restart()                      # same data, same port (fault tests)
        pg.drop_database(name)
    # stopped and removed on exit (and at interpreter exit, whatever happens)

    python3 tests/harness/pg.py start     # prints PGURL=..., PGDIR=..., PGPORT=...; keeps running
    python3 tests/harness/pg.py stop DIR  # stops that cluster and removes DIR
    python3 tests/harness/pg.py run CMD...  # CMD with DEPOT_TEST_PG_URL set to a cluster's URL,
                                            # the cluster removed after (CMD alone when PostgreSQL
                                            # is not installed)

The server listens on loopback only, with fsync off (a test cluster holds nothing worth a sync) and
enough connections for several depot servers side by side. initdb refuses to run as root, so under
root the cluster belongs to the `postgres` OS user that Debian's postgresql package creates. The
binaries come from /usr/lib/postgresql/<newest>/bin, or $PG_BIN when set.

Databases are created and queried over the wire protocol by a small client here (trust auth, the
simple query protocol), so nothing but the server itself needs to be installed.
"""

import atexit
import glob
import itertools
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

_counter = itertools.count(1)
_live = set()


def pg_bin_dir():
    if os.environ.get("PG_BIN"):
        if not os.path.exists(os.path.join(os.environ["PG_BIN"], "initdb")):
            raise PgError("PG_BIN=%s holds no initdb" % os.environ["PG_BIN"])
        return os.environ["PG_BIN"]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not found:
        raise PgError("PostgreSQL is not installed (apt-get install postgresql postgresql-contrib)")
    return os.path.dirname(found[-1])


def available():
    try:
        pg_bin_dir()
        return True
    except PgError:
        return False


class PgError(Exception):
    pass


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# A minimal wire-protocol client: startup (trust), simple queries, text results.


class Conn:
    def __init__(self, host, port, user, db, timeout=30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        body = struct.pack("!i", 196608)
        for k, v in (("user", user), ("database", db), ("application_name", "depot-tests")):
            body += k.encode() + b"\0" + v.encode() + b"\0"
        body += b"\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        self._buf = b""
        while True:
            t, payload = self._msg()
            if t == b"R":
                if struct.unpack("!i", payload[:4])[0] != 0:
                    raise PgError("the test cluster asked for a password (expected trust)")
            elif t == b"E":
                raise PgError(self._error(payload))
            elif t == b"Z":
                break

    def _read(self, n):
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise PgError("the server closed the connection")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _msg(self):
        head = self._read(5)
        n = struct.unpack("!i", head[1:])[0]
        return head[:1], self._read(n - 4)

    @staticmethod
    def _error(payload):
        fields = {}
        for part in payload.split(b"\0"):
            if part:
                fields[part[:1].decode()] = part[1:].decode("utf-8", "replace")
        return "%s: %s" % (fields.get("C", "?"), fields.get("M", "?"))

    def query(self, sql):
        """Runs one or more statements; returns the rows of the last result as lists of text
        (None for NULL). Raises PgError with the SQLSTATE on an error."""
        data = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!i", len(data) + 4) + data)
        rows, err = [], None
        while True:
            t, payload = self._msg()
            if t == b"T":
                rows = []
            elif t == b"D":
                n = struct.unpack("!h", payload[:2])[0]
                off, row = 2, []
                for _ in range(n):
                    ln = struct.unpack("!i", payload[off:off + 4])[0]
                    off += 4
                    if ln < 0:
                        row.append(None)
                    else:
                        row.append(payload[off:off + ln].decode("utf-8"))
                        off += ln
                rows.append(row)
            elif t == b"E":
                err = self._error(payload)
            elif t == b"Z":
                break
        if err:
            raise PgError(err)
        return rows

    def close(self):
        try:
            self.sock.sendall(b"X" + struct.pack("!i", 4))
        except OSError:
            pass
        self.sock.close()


# --------------------------------------------------------------------------------------------
# The cluster


class Cluster:
    def __init__(self, port=None, max_connections=400):
        self.bin = pg_bin_dir()
        self.root = None
        self.port = port
        self.host = "127.0.0.1"
        self.user = "postgres"
        self.max_connections = max_connections
        self.as_user = None  # pwd entry to run the server as (when we are root)
        self._lock = threading.Lock()
        self.started = False

    # ---- running programs as the cluster's owner ----

    def _run(self, args, check=True, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.STDOUT)
        kw.setdefault("stdin", subprocess.DEVNULL)
        if self.as_user is not None:
            kw["user"] = self.as_user.pw_uid
            kw["group"] = self.as_user.pw_gid
            kw["extra_groups"] = []
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        try:
            p = subprocess.run(args, text=True, env=env, cwd=self.root, **kw)
        except OSError as e:
            raise PgError("cannot run %s: %s" % (args[0], e))
        if check and p.returncode != 0:
            raise PgError("%s failed (exit %d):\n%s" % (os.path.basename(args[0]), p.returncode,
                                                         p.stdout or ""))
        return p

    def _prog(self, name):
        return os.path.join(self.bin, name)

    @property
    def data_dir(self):
        return os.path.join(self.root, "data")

    @property
    def log_path(self):
        return os.path.join(self.root, "server.log")

    def start(self):
        self.root = tempfile.mkdtemp(prefix="depot-pg-")
        if os.geteuid() == 0:
            try:
                self.as_user = pwd.getpwnam("postgres")
            except KeyError:
                raise PgError("running as root needs the postgres OS user (Debian's postgresql "
                              "package creates it)")
            os.chown(self.root, self.as_user.pw_uid, self.as_user.pw_gid)
        os.chmod(self.root, 0o700)
        self._run([self._prog("initdb"), "-D", self.data_dir, "-U", self.user,
                   "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        with open(os.path.join(self.data_dir, "postgresql.conf"), "a") as f:
            f.write("\n# depot tests\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = '%s'\n"
                    "max_connections = %d\n"
                    "fsync = off\n"
                    "synchronous_commit = off\n"
                    "full_page_writes = off\n"
                    "shared_buffers = 128MB\n"
                    "log_min_messages = warning\n"
                    "log_min_error_statement = panic\n"
                    % (self.root, self.max_connections))
        _live.add(self)
        self._start_server()
        return self

    def _start_server(self):
        for attempt in range(5):
            port = self.port or _free_port()
            p = self._run([self._prog("pg_ctl"), "-D", self.data_dir, "-l", self.log_path, "-w",
                           "-t", "60", "-o", "-p %d" % port, "start"], check=False)
            if p.returncode == 0:
                self.port = port
                self.started = True
                return
            if self.port:  # a fixed port (restart) that is not free: nothing else to try
                break
            time.sleep(0.2)
        raise PgError("PostgreSQL did not start:\n%s\n%s" % (p.stdout, self.server_log(40)))

    def server_log(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, mode="fast"):
        """Stops the server (the data stays, for restart())."""
        if self.started:
            self._run([self._prog("pg_ctl"), "-D", self.data_dir, "-m", mode, "-w", "stop"],
                      check=False)
            self.started = False

    def restart(self, downtime=0.0):
        """Stops the server and starts it again on the same port, after `downtime` seconds."""
        self.stop()
        if downtime:
            time.sleep(downtime)
        self._start_server()

    def close(self):
        """Stops the server and removes everything."""
        try:
            self.stop("immediate")
        finally:
            if self.root:
                shutil.rmtree(self.root, ignore_errors=True)
            _live.discard(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # ---- databases ----

    def url(self, db):
        return "postgresql://%s@%s:%d/%s" % (self.user, self.host, self.port, db)

    def connect(self, db="postgres"):
        return Conn(self.host, self.port, self.user, db)

    def query(self, sql, db="postgres"):
        c = self.connect(db)
        try:
            return c.query(sql)
        finally:
            c.close()

    def create_database(self, prefix="depot"):
        """Creates a new empty database and returns its URL."""
        name = _new_database_name(prefix)
        self.query('CREATE DATABASE "%s"' % name)
        return self.url(name)

    def drop_database(self, name_or_url):
        name = name_or_url.rsplit("/", 1)[-1].split("?")[0]
        self.query('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def _new_database_name(prefix):
    """pid and counter tell apart the databases of processes alive at one moment; the random part
    keeps a later process given a recycled pid clear of a database an earlier one left behind."""
    return "%s_%d_%d_%s" % (prefix, os.getpid(), next(_counter), os.urandom(3).hex())


def drop_database_at(url):
    """Drops the database a URL of a cluster started here names (from any process)."""
    rest = url.split("://", 1)[1]
    user_host, db = rest.split("/", 1)
    user, hostport = user_host.split("@", 1)
    host, port = hostport.rsplit(":", 1)
    db = db.split("?")[0]
    c = Conn(host, int(port), user, "postgres")
    try:
        c.query('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
    finally:
        c.close()


def create_database_at(admin_url, prefix="depot"):
    """Creates a database in the cluster whose URL (any database of it) is given; returns its URL."""
    rest = admin_url.split("://", 1)[1]
    user_host, _ = rest.split("/", 1)
    user, hostport = user_host.split("@", 1)
    host, port = hostport.rsplit(":", 1)
    name = _new_database_name(prefix)
    c = Conn(host, int(port), user, "postgres")
    try:
        c.query('CREATE DATABASE "%s"' % name)
    finally:
        c.close()
    return "postgresql://%s@%s:%s/%s" % (user, host, port, name)


@atexit.register
def _cleanup():
    for c in list(_live):
        try:
            c.close()
        except Exception:  # noqa: BLE001
            pass


def main(argv):
    if len(argv) >= 1 and argv[0] == "start":
        c = Cluster()
        c.start()
        _live.discard(c)  # keep it running after we exit
        print("PGURL=%s" % c.url("postgres"))
        print("PGDIR=%s" % c.root)
        print("PGPORT=%d" % c.port)
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        root = argv[1]
        c = Cluster()
        c.root = root
        if os.geteuid() == 0:
            c.as_user = pwd.getpwnam("postgres")
        c.started = True
        c.close()
        return 0
    if len(argv) >= 2 and argv[0] == "run":
        c = Cluster() if available() else None
        try:
            if c:
                c.start()
        except PgError as e:
            sys.stderr.write("pg.py: no throwaway PostgreSQL (%s); running without it\n" % e)
            c.close()
            c = None
        if not c:
            return subprocess.call(argv[1:])
        try:
            env = dict(os.environ, DEPOT_TEST_PG_URL=c.url("postgres"))
            return subprocess.call(argv[1:], env=env)
        finally:
            c.close()
    sys.stderr.write("usage: pg.py start | pg.py stop DIR | pg.py run CMD...\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
