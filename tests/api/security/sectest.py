"""
sectest.py — shared pieces of the security suite: SecurityTestCase, a server with one package
in every ecosystem (each with a second owner who is then disabled), the credentials a refusal
must be checked against, a snapshot of everything a write could change (read over HTTP, so it
works on every store), and response invariants that follow each front's own error shape.
"""

import base64
import gzip
import io
import json
import re
import subprocess
import tarfile
import time

from apitest import DepotTestCase, bearer, depot_bin, format_time
from hex.hextest import HexTestCase, hex_tarball
from native.nativetest import NativeTestCase, manifest, targz
from npm.npmtest import NpmTestCase, publish_doc
from pub.dartpub import DartPub, package
from pub.pubtest import pub_problems

NATIVE_PKG = "sec-native"
HEX_PKG = "sec_hex"
NPM_PKG = "sec-npm"
PUB_PKG = "sec_pub"
VERSION = "1.0.0"
DOCS = targz({"index.html": "<!doctype html><title>docs</title>"})
WEB_PATHS = ("/packages/", "/register", "/login", "/logout", "/account", "/password/",
             "/email/", "/admin", "/search", "/users/", "/static/", "/favicon.ico")


def route_list():
    """Every route of the binary under test (`depot routes --json`). Raises when the binary
    cannot list them: the suites built on it must fail, not shrink."""
    p = subprocess.run([depot_bin(), "routes", "--json"], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        raise RuntimeError("depot routes --json failed (%d): %s" % (p.returncode, p.stderr))
    routes = json.loads(p.stdout)
    if not routes:
        raise RuntimeError("depot routes --json listed no routes")
    return routes


def is_web(path):
    return path == "/" or path.startswith(WEB_PATHS)


def tamper_jwt(jwt):
    """The JWT with its payload's subject changed and the old signature kept."""
    head, payload, sig = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(claims.get("sub", "1")) + "1"
    claims["adm"] = True
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return "%s.%s.%s" % (head, body, sig)


def tamper_token(secret):
    """An API token with one character of its secret changed."""
    last = secret[-1]
    return secret[:-1] + ("A" if last != "A" else "B")


class SecurityTestCase(DepotTestCase):
    """A server holding sec-native, sec_hex, sec-npm and sec_pub (1.0.0 each, with docs for
    native and hex), owned by self.owner and by self.gone, a user disabled after the fact; a
    stranger who owns nothing; and the owner's credentials, good and bad. The names are fixed,
    so the classes of a module that share a server share these too (made once per server)."""

    fixtures = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.fixtures:
            cls.once_per_server("security fixtures", cls.make_fixtures)

    @classmethod
    def make_fixtures(cls):
        d = cls.depot
        cls.owner = cls.register_user(prefix="own")
        cls.stranger = cls.register_user(prefix="str")
        cls.gone = cls.register_user(prefix="gone")
        cls.other = cls.register_user(prefix="oth")

        def tok(user, scopes, expires_at=None):
            r = d.create_token(user.bearer, cls.uniq("tok"), scopes, expires_at=expires_at)
            assert r.status == 201, r.describe()
            return r.json()["token"], r.json()["name"]

        expiry = time.time() + 2
        cls.tok_expired, _ = tok(cls.owner, ["publish"], expires_at=format_time(expiry))
        cls.tok_full, cls.tok_full_name = tok(cls.owner, ["publish"])
        cls.tok_manage, _ = tok(cls.owner, ["read", "manage"])
        cls.tok_read, _ = tok(cls.owner, ["read"])
        cls.tok_gone, _ = tok(cls.gone, ["publish"])
        cls.tok_stranger, _ = tok(cls.stranger, ["publish"])
        cls.tok_revoked, name = tok(cls.owner, ["publish"])
        r = d.delete("/api/v1/tokens/" + name, auth=cls.owner.bearer)
        assert r.status == 204, r.describe()
        cls.tok_narrow_pkg = {}
        for eco in ("native", "hex", "npm", "pub"):
            cls.tok_narrow_pkg[eco], _ = tok(cls.owner, ["read", "publish:%s/zz-elsewhere" % eco])
        cls.tok_native_only, _ = tok(cls.owner, ["read", "publish:native"])
        cls.tok_hex_only, _ = tok(cls.owner, ["read", "publish:hex"])

        # One package per ecosystem, owned by owner and gone.
        own = bearer(cls.tok_full)
        r = d.publish(targz({"src/a.txt": "a"}), metadata=manifest(NATIVE_PKG, VERSION),
                      auth=own)
        assert r.status == 201, r.describe()
        r = d.request("POST", "/api/v1/packages/%s/versions/%s/docs" % (NATIVE_PKG, VERSION),
                      body=DOCS, headers={"Content-Type": "application/gzip"}, auth=own)
        assert r.status == 201, r.describe()
        r = d.request("POST", "/hex/api/publish", body=hex_tarball(HEX_PKG, VERSION),
                      headers={"Authorization": cls.tok_full,
                               "Content-Type": "application/octet-stream"})
        assert r.status == 201, r.describe()
        r = d.request("POST", "/hex/api/packages/%s/releases/%s/docs" % (HEX_PKG, VERSION),
                      body=DOCS, headers={"Authorization": cls.tok_full,
                                          "Content-Type": "application/octet-stream"})
        assert r.status == 201, r.describe()
        r = d.request("PUT", "/npm/" + NPM_PKG, json=publish_doc(NPM_PKG, VERSION), auth=own)
        assert r.status == 201, r.describe()
        res = DartPub(d, d.url + "/pub", token=cls.tok_full).publish(
            package(PUB_PKG, VERSION), PUB_PKG)
        assert res.exit == 0, res
        # Owners are managed with the session (a publish token does not carry manage).
        mng = cls.owner.bearer
        for path in ("/api/v1/packages/%s/owners/%s" % (NATIVE_PKG, cls.gone.username),
                     "/pub/api/packages/%s/uploaders/%s" % (PUB_PKG, cls.gone.username)):
            r = d.request("PUT", path, auth=mng)
            assert r.status == 200, r.describe()
        r = d.request("PUT", "/hex/api/packages/%s/owners/%s" % (HEX_PKG, cls.gone.username),
                      headers={"Authorization": mng})
        assert r.status == 204, r.describe()
        doc = d.get("/npm/" + NPM_PKG).json()
        doc["maintainers"].append({"name": cls.gone.username, "email": cls.gone.email})
        r = d.request("PUT", "/npm/%s/-rev/%s" % (NPM_PKG, doc["_rev"]), json=doc, auth=mng)
        assert r.status == 200, r.describe()

        # The session cookie of the owner, and the disabled user's credentials made before.
        cls.cookie = "depot_session=" + cls.owner.jwt
        cls.gone_jwt = cls.gone.jwt
        p = d.cli("user", "disable", cls.gone.username)
        assert p.returncode == 0, p.stderr
        left = expiry + 1.2 - time.time()
        if left > 0:
            time.sleep(left)

    # ---- what a refused request must leave alone ----------------------------------------------

    def snapshot(self):
        """Every document a write route could change, read as the admin (volatile fields, such
        as download counts and last use times, left out)."""
        adm = self.admin.bearer
        own = self.owner.bearer
        reads = [
            ("/api/v1/packages/" + NATIVE_PKG, adm),
            ("/api/v1/packages/%s/owners" % NATIVE_PKG, adm),
            ("/api/v1/packages/%s/versions/%s" % (NATIVE_PKG, VERSION), adm),
            ("/api/v1/stats", adm),
            ("/api/v1/tokens", own),
            ("/api/v1/me/keys", own),
            ("/api/v1/tokens", self.stranger.bearer),
            ("/api/v1/me", own),
            ("/api/v1/users/" + self.owner.username, adm),
            ("/hex/api/packages/" + HEX_PKG, adm),
            ("/hex/api/packages/%s/releases/%s" % (HEX_PKG, VERSION), adm),
            ("/hex/api/packages/%s/owners" % HEX_PKG, adm),
            ("/npm/" + NPM_PKG, adm),
            ("/pub/api/packages/" + PUB_PKG, adm),
            ("/pub/api/packages/%s/options" % PUB_PKG, adm),
            ("/pub/api/packages/%s/versions/%s/options" % (PUB_PKG, VERSION), adm),
            ("/pub/api/packages/%s/uploaders" % PUB_PKG, adm),
            ("/docs/native/%s/%s/index.html" % (NATIVE_PKG, VERSION), None),
            ("/docs/hex/%s/%s/index.html" % (HEX_PKG, VERSION), None),
        ]
        out = {}
        with self.depot.session() as s:
            for path, auth in reads:
                h = {"Accept": "application/json"}
                if auth:
                    h["Authorization"] = auth
                r = s.request("GET", path, headers=h)
                body = r.body
                if "json" in (r.headers.get("Content-Type") or ""):
                    body = strip_volatile(json.loads(body.decode()))
                out[path + (" as " + auth[-8:] if auth else "")] = (r.status, body)
        return out

    def assertUnchanged(self, before, what):
        after = self.snapshot()
        changed = [k for k in before if before[k] != after.get(k)]
        if changed:
            k = changed[0]
            self.fail("%s changed stored data: %s\n  before %r\n  after  %r"
                      % (what, ", ".join(changed), before[k], after.get(k)))

    # ---- invariants: each front's own error shape ---------------------------------------------

    @staticmethod
    def invariant_problems(r):
        path = (r.path or "").split("?")[0]
        if path.startswith("/hex/"):
            return HexTestCase.invariant_problems(r)
        if path.startswith("/npm/"):
            return NpmTestCase.invariant_problems(r)
        if path.startswith("/pub/"):
            return pub_problems(r)
        if is_web(path) and "text/html" in (r.headers.get("Content-Type") or ""):
            return [] if r.headers.get("X-Request-Id") else ["no X-Request-Id header"]
        return NativeTestCase.invariant_problems(r)


VOLATILE = {"downloads", "last_used_at", "last_use", "recent_downloads", "updated",
            "most_downloaded", "recently_updated", "newest"}


def strip_volatile(v):
    if isinstance(v, dict):
        return {k: strip_volatile(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [strip_volatile(x) for x in v]
    return v


# ---- hostile inputs: a table of cases, one test method each -----------------------------------

class Case:
    """One hostile request: send(t) returns the Response (None: the server closed without one);
    want: the acceptable statuses (all 4xx); unchanged: stored data must stay as it was."""

    def __init__(self, front, name, send, want, unchanged=True, closed_ok=False, check=None):
        self.front, self.name, self.send, self.check = front, name, send, check
        self.want = want if isinstance(want, tuple) else (want,)
        self.unchanged = unchanged
        self.closed_ok = closed_ok


class HostileTestCase(SecurityTestCase):

    def run_case(self, case):
        before = self.snapshot() if case.unchanged else None
        r = case.send(self)
        if r is None:
            self.assertTrue(case.closed_ok, "%s: the server closed the connection without an "
                            "answer; expected %s" % (case.name, case.want))
        else:
            self.assertIn(r.status, case.want, "%s: %s" % (case.name, r.describe(500)))
            if case.check:
                case.check(self, r)
        h = self.depot.get("/health")
        self.assertEqual(h.status, 200, "the server stopped answering after %s" % case.name)
        if before is not None:
            self.assertUnchanged(before, case.name)


def add_cases(cls, cases):
    """One test method per case, named after its front and name; returns how many."""
    seen = set()
    for c in cases:
        name = "test_%s_%s" % (c.front, re.sub(r"[^a-z0-9]+", "_", c.name.lower()).strip("_"))
        assert name not in seen, "two cases named %s" % name
        seen.add(name)

        def t(self, c=c):
            self.run_case(c)
        t.__doc__ = "%s: %s is refused with a 4xx" % (c.front, c.name)
        setattr(cls, name, t)
    return len(seen)


def tar_entries(entries, gz=True):
    """A tar (gzipped unless gz is False) of (name, kind, data, linkname) entries; kind is one
    of file, dir, symlink, hardlink, chardev, blockdev, fifo."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, data, link in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE,
                       "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                       "chardev": tarfile.CHRTYPE, "blockdev": tarfile.BLKTYPE,
                       "fifo": tarfile.FIFOTYPE}[kind]
            ti.mode = 0o755 if kind == "dir" else 0o644
            if link:
                ti.linkname = link
            if kind == "file":
                data = data.encode() if isinstance(data, str) else (data or b"")
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
    b = raw.getvalue()
    return gzip.compress(b, mtime=0) if gz else b
