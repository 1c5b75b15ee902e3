"""
apitest.py — the base TestCase for depot's black-box API tests.

The classes of one test module that ask for the same server settings share one server, started by
the first of them and stopped when the module is done (close_shared_servers; tests/api/run.py
runs a module's sharing classes in one worker). Tests and classes on one server keep to names
of their own (self.uniq) and never depend on each other's order. A class that truly needs a
fresh server and data folder (it restarts or stops it, or runs it on services of its own) sets
own_server = True; one that spends rate limits, or starts its servers itself, gets its own too
(tests/README.md). After every test, every response the test received is checked against the
contract's invariants (error shape, WWW-Authenticate on 401, Allow on 405, Retry-After on 429,
X-Request-Id everywhere). A class whose test failed keeps its server's temp dir for inspection.
"""

import atexit
import calendar
import itertools
import json
import os
import random
import re
import string
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))

from depot import (Depot, DepotError, RawConn, Response, basic, bearer, depot_bin,  # noqa: E402,F401
                   parse_prometheus)

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
TOKEN_SECRET = re.compile(r"^dpt_[A-Za-z0-9_-]{43}$")

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal",
    503: "unavailable",
}

# What an error body must never show a client: the store's internals or a path on disk.
LEAKS = [
    # (not inside a run of base64, where the letters turn up by chance: a hash in a message)
    (re.compile(r"(?<![A-Za-z0-9+/])sql(?:ite\w*)?(?![A-Za-z0-9+/=])", re.I), "mentions SQL/sqlite"),
    (re.compile(r"(?<![\w.])/(?:tmp|home|root|work|usr|var|etc|opt|srv|proc|dev)/"),
     "contains a file path"),
    (re.compile(r"\b[\w-]+\.(?:c|h|db|sqlite3?)(?::\d+)?\b"), "names a source or database file"),
]


def parse_time(s):
    """RFC 3339 UTC string -> seconds since the epoch (float)."""
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$", s)
    if not m:
        raise ValueError("not an RFC 3339 UTC time: %r" % (s,))
    y, mo, d, h, mi, sec = (int(x) for x in m.groups()[:6])
    frac = float(m.group(7)) if m.group(7) else 0.0
    return calendar.timegm((y, mo, d, h, mi, sec, 0, 0, 0)) + frac


def format_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


_counter = itertools.count(1)


class User:
    def __init__(self, username, email, password, data=None, jwt=None):
        self.username = username
        self.email = email
        self.password = password
        self.data = data or {}
        self.jwt = jwt

    @property
    def id(self):
        return self.data.get("id")

    @property
    def bearer(self):
        return "Bearer " + self.jwt

    @property
    def basic(self):
        return basic(self.username, self.password)

    def __repr__(self):
        return "<User %s>" % self.username


class DepotTestCase(unittest.TestCase):
    # Per-class server settings.
    depot_args = ()
    depot_env = None
    depot_config = None
    rate_limit = False
    log_format = "text"
    start_server = True
    # Register a first user (who becomes admin) at class start so users made by new_user()
    # are ordinary users.
    create_admin = True
    # A server of the class's own instead of the module's shared one (see the top).
    own_server = False
    # The server generates its Hex repository key itself, instead of being given the key the
    # run's first server generated (tests/harness/depot.py, DEPOT_TEST_HEX_KEY_CACHE).
    own_hex_key = False

    maxDiff = 4000

    @classmethod
    def server_group(cls):
        """The key of the shared server this class runs on (its module and its settings), or
        None when it starts its own server or none."""
        if cls.own_server or cls.rate_limit or not cls.start_server:
            return None
        return (cls.__module__, repr((tuple(cls.depot_args), cls.depot_env, cls.depot_config,
                                      cls.log_format, cls.create_admin, cls.own_hex_key)))

    @classmethod
    def setUpClass(cls):
        cls._keep = False
        cls._depots = []
        cls._shared = None
        cls.depot = None
        cls.admin = None
        if not cls.start_server:
            return
        key = cls.server_group()
        if key is not None:
            cls._shared = _shared_server(cls, key)
            cls.depot, cls.admin = cls._shared.depot, cls._shared.admin
            cls._depots.append(cls.depot)
            return
        try:
            cls.depot = cls._start_depot(cls.make_depot)
            if cls.create_admin:
                cls.admin = cls.register_user(cls.depot, prefix="admin")
        except BaseException:
            # tearDownClass does not run after a failed setUpClass; keep what ran
            for d in cls._depots:
                d.close(keep=d.proc is not None)
            raise

    @classmethod
    def _start_depot(cls, make):
        return make(extra_args=cls.depot_args, env=cls.depot_env, config=cls.depot_config,
                    rate_limit=cls.rate_limit, log_format=cls.log_format,
                    own_hex_key=cls.own_hex_key)

    @classmethod
    def tearDownClass(cls):
        if cls._shared is not None and cls._keep:
            cls._shared.keep = True
        for d in cls._depots:
            if cls._shared is None or d is not cls._shared.depot:
                d.close(keep=cls._keep)

    @classmethod
    def once_per_server(cls, what, make):
        """Runs make(), which sets class attributes (fixtures on the server), once per shared
        server: a later class on the same server gets the attributes the first one's make() set
        instead. On a server of the class's own, make() simply runs."""
        done = cls._shared.fixtures if cls._shared is not None else None
        if done is not None and what in done:
            for k, v in done[what].items():
                setattr(cls, k, v)
            return
        before = dict(vars(cls))
        make()
        if done is not None:
            done[what] = {k: v for k, v in vars(cls).items()
                          if k not in before or before[k] is not v}

    @classmethod
    def make_depot(cls, start=True, **kw):
        d = Depot(name=cls.__name__, **kw)
        cls._depots.append(d)
        if start:
            d.start()
        return d

    # ---- failure bookkeeping and invariants -------------------------------------------------

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            type(self)._keep = True
        return out

    def setUp(self):
        self._marks = {id(d): len(d.responses) for d in type(self)._depots}

    def tearDown(self):
        problems = []
        for d in type(self)._depots:
            for r in d.responses[self._marks.get(id(d), 0):]:
                for p in self.invariant_problems(r):
                    problems.append("%s\n    in %s" % (p, r.describe(300)))
        if problems:
            self.fail("responses broke the contract's invariants:\n  " + "\n  ".join(problems))

    @staticmethod
    def invariant_problems(r):
        out = []
        if not r.headers.get("X-Request-Id"):
            out.append("no X-Request-Id header")
        if r.status == 503 and (r.path or "").split("?")[0] == "/health":
            # /health's 503 is its own document ({"status":"fail",...}), not an error object;
            # it still must not leak internals
            out.extend(leak_problems(r))
        elif r.status >= 400:
            out.extend(error_body_problems(r))
        if r.status == 401:
            www = " ".join(r.headers.get_all("WWW-Authenticate"))
            if 'Bearer realm="depot"' not in www or 'Basic realm="depot"' not in www:
                out.append('401 without WWW-Authenticate Bearer realm="depot" and '
                           'Basic realm="depot" (got %r)' % www)
        if r.status == 405 and not r.headers.get("Allow"):
            out.append("405 without Allow")
        if r.status == 429:
            ra = r.headers.get("Retry-After")
            if ra is None or not ra.strip().isdigit():
                out.append("429 without a Retry-After in seconds (got %r)" % ra)
        return out

    # ---- assertions -------------------------------------------------------------------------

    def assertStatus(self, r, *statuses):
        if r is None:
            self.fail("no response (the server closed the connection); expected %s"
                      % "/".join(map(str, statuses)))
        if r.status not in statuses:
            self.fail("expected %s, got %s" % ("/".join(map(str, statuses)), r.describe()))
        return r

    def assertError(self, r, status, code=None, field=None):
        """r is the error response of `status` (one status or a tuple of acceptable ones) with
        the contract's code; field: a word the message must name."""
        statuses = status if isinstance(status, tuple) else (status,)
        self.assertStatus(r, *statuses)
        problems = error_body_problems(r)
        if problems:
            self.fail("; ".join(problems) + ": " + r.describe())
        err = r.json()["error"]
        want = code or ERROR_CODES.get(r.status)
        if want:
            self.assertEqual(err["code"], want, r.describe())
        if field:
            self.assertIn(field, err["message"].lower(),
                          "the message should name the field %r: %s" % (field, r.describe()))
        return err

    def assertJSON(self, r, status=200):
        self.assertStatus(r, status)
        ct = r.headers.get("Content-Type") or ""
        self.assertTrue(ct.lower().startswith("application/json"),
                        "Content-Type should be application/json: %s (%r)" % (r.describe(), ct))
        try:
            return r.json()
        except ValueError:
            self.fail("body is not JSON: " + r.describe())

    def assertTime(self, value, what="time"):
        self.assertIsInstance(value, str, "%s should be an RFC 3339 string, got %r"
                              % (what, value))
        self.assertRegex(value, RFC3339_UTC, "%s should be RFC 3339 UTC" % what)

    def assertUserShape(self, u, username=None, email=None):
        self.assertIsInstance(u, dict)
        for k in ("id", "username", "email", "is_admin", "created_at"):
            self.assertIn(k, u, "user object lacks %r: %r" % (k, u))
        self.assertIsInstance(u["id"], int)
        self.assertIsInstance(u["is_admin"], bool)
        self.assertTime(u["created_at"], "created_at")
        for k in u:
            self.assertNotIn("password", k.lower(), "user object shows %r" % k)
            self.assertNotIn("hash", k.lower(), "user object shows %r" % k)
        if username is not None:
            self.assertEqual(u["username"], username)
        if email is not None:
            self.assertEqual(u["email"].lower(), email.lower())

    def assertTokenShape(self, t, with_secret=False):
        for k in ("name", "scopes", "prefix", "created_at", "expires_at", "last_used_at"):
            self.assertIn(k, t, "token object lacks %r: %r" % (k, t))
        self.assertIsInstance(t["scopes"], list)
        self.assertTime(t["created_at"], "created_at")
        for k in ("expires_at", "last_used_at"):
            if t[k] is not None:
                self.assertTime(t[k], k)
        if with_secret:
            self.assertRegex(t.get("token") or "", TOKEN_SECRET)
        else:
            self.assertNotIn("token", t, "the secret must be shown only at creation: %r" % t)
        for k in t:
            self.assertNotIn("hash", k.lower(), "token object shows %r" % k)

    # ---- helpers ----------------------------------------------------------------------------

    @staticmethod
    def uniq(prefix="u"):
        tail = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        return "%s%d%s" % (prefix, next(_counter), tail)

    @classmethod
    def register_user(cls, depot=None, prefix="u", password=None, login=True):
        """Registers a new user over HTTP and logs in; returns a User (with .jwt)."""
        d = depot or cls.depot
        name = cls.uniq(prefix)
        email = "%s@example.com" % name
        password = password or "pw-" + name + "-secret"
        r = d.register(name, email, password)
        if r.status != 201:
            raise AssertionError("registering %s failed: %s" % (name, r.describe()))
        u = User(name, email, password, r.json())
        if login:
            u.jwt = d.jwt(name, password)
        return u

    def new_user(self, **kw):
        return self.register_user(**kw)

    @classmethod
    def cli_user(cls, depot=None, prefix="c", admin=False, login=True):
        """Creates a user through `depot user add` (works when registration is closed)."""
        d = depot or cls.depot
        name = cls.uniq(prefix)
        email = "%s@example.com" % name
        password = "pw-" + name + "-secret"
        args = ["user", "add", name, "--email", email, "--password-stdin"]
        if admin:
            args.append("--admin")
        p = d.cli(*args, input=password + "\n")
        if p.returncode != 0:
            raise AssertionError("depot %s failed (%d): %s%s" % (" ".join(args), p.returncode,
                                                                   p.stdout, p.stderr))
        u = User(name, email, password)
        if login:
            u.jwt = d.jwt(name, password)
        return u

    def make_token(self, auth, scopes=("read",), name=None, depot=None, expires_at=None):
        d = depot or self.depot
        name = name or self.uniq("tok")
        r = d.create_token(auth, name, list(scopes), expires_at=expires_at)
        self.assertStatus(r, 201)
        return r.json()["token"], name


class _Shared:
    def __init__(self, depot, admin):
        self.depot, self.admin, self.keep = depot, admin, False
        self.fixtures = {}  # once_per_server: what -> the class attributes it set


_shared = {}  # server_group() -> _Shared, while the module runs


def _shared_server(cls, key):
    """The module's shared server for key, started (and its admin registered) by the first
    class that asks."""
    sh = _shared.get(key)
    if sh is not None:
        return sh
    made = []

    def make(**kw):
        made.append(Depot(name=cls.__module__, **kw))
        return made[-1].start()
    try:
        d = cls._start_depot(make)
        admin = cls.register_user(d, prefix="admin") if cls.create_admin else None
    except BaseException:
        for x in made:
            x.close(keep=x.proc is not None)
        raise
    sh = _shared[key] = _Shared(d, admin)
    return sh


@atexit.register
def close_shared_servers():
    """Stops every shared server and removes its temp dir (kept when a class on it failed).
    Raises DepotError after closing them all when one's stderr had a sanitizer report."""
    errors = []
    while _shared:
        _, sh = _shared.popitem()
        try:
            sh.depot.close(keep=sh.keep)
        except DepotError as e:
            errors.append(str(e))
    if errors:
        raise DepotError("\n".join(errors))


def error_body_problems(r):
    """What is wrong with r as an error response of the contract (empty list: nothing)."""
    out = []
    ct = (r.headers.get("Content-Type") or "").lower()
    if not ct.startswith("application/json"):
        out.append("error response with Content-Type %r, not application/json" % ct)
    try:
        obj = json.loads(r.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        out.append("error body is not JSON")
        return out + leak_problems(r)
    err = obj.get("error") if isinstance(obj, dict) else None
    if not isinstance(err, dict):
        out.append('error body lacks an "error" object')
        return out + leak_problems(r)
    if not isinstance(err.get("code"), str) or not err.get("code"):
        out.append("error.code missing or not a string")
    if not isinstance(err.get("message"), str) or not err.get("message"):
        out.append("error.message missing or not a string")
    want = ERROR_CODES.get(r.status)
    if want and err.get("code") != want:
        out.append("status %d should have code %r, got %r" % (r.status, want, err.get("code")))
    return out + leak_problems(r)


def leak_problems(r):
    out = []
    text = r.body.decode("utf-8", "replace")
    for rx, what in LEAKS:
        m = rx.search(text)
        if m:
            out.append("error body %s (%r)" % (what, m.group(0)))
    return out
