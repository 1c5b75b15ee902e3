"""
soak.py — what the soak tests (crash.py, load.py, faults.py) share: the harness and the API
suite's package builders on sys.path, a server with a publisher account and a token for every
ecosystem, one publish per ecosystem as its own client sends it, and a check that reads a version
back through every document of its front and says whether it is there, wholly, or not at all.
"""

import base64
import hashlib
import http.client
import json
import os
import sqlite3
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
API = os.path.join(HERE, "..", "api")
for p in (os.path.join(HERE, "..", "harness"), API, os.path.join(API, "native")):
    if p not in sys.path:
        sys.path.insert(0, p)

from depot import Depot, multipart_body, Part, free_port  # noqa: E402,F401
from nativetest import manifest, targz  # noqa: E402
from hex.hextest import hex_tarball, open_registry, decode_package, ETF  # noqa: E402
from npm.npmtest import npm_tarball, publish_doc  # noqa: E402
from pub.dartpub import DartPub, package as pub_package  # noqa: E402

ECOSYSTEMS = ("native", "hex", "npm", "pub")
PUB_JSON = "application/vnd.pub.v2+json"


class Cut(Exception):
    """The connection failed before a whole response arrived."""


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def http_call(host, port, method, path, body=None, headers=None, timeout=30.0):
    """One request on a new connection: (status, headers dict lower-cased, body). Raises Cut
    when the connection fails before the whole response is read."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    except (OSError, http.client.HTTPException) as e:
        raise Cut("%s %s: %s" % (method, path, e)) from None
    finally:
        conn.close()


def names_for(eco, tag):
    """A package name valid in eco (hex and pub: [a-z0-9_], npm and native: dashes too)."""
    return ("soak_%s_%s" % (eco, tag)) if eco in ("hex", "pub") else "soak-%s-%s" % (eco, tag)


def build(eco, name, version, pad=0):
    """The bytes a client of eco uploads for name@version, with pad random bytes inside (so the
    upload takes a while and each tarball is unique). Returns (wire body, the tarball)."""
    junk = os.urandom(pad) if pad else b""
    if eco == "native":
        tb = targz({"src/main.txt": "%s %s\n" % (name, version), "data.bin": junk})
        return tb, tb
    if eco == "hex":
        files = {"src/%s.erl" % name: "-module(%s).\n" % name, "priv/data.bin": junk}
        tb = hex_tarball(name, version, files=files)
        return tb, tb
    if eco == "npm":
        tb = npm_tarball(name, version, files={"data.bin": junk})
        return tb, tb
    tb = pub_package(name, version, files={"lib/data.bin": junk})
    return tb, tb


class Registry:
    """A server and the publisher's credentials for each front."""

    def __init__(self, extra_args=(), data_dir=None, **kw):
        self.port = free_port()
        self.depot = Depot(extra_args=list(extra_args), listen="127.0.0.1:%d" % self.port,
                           base_url="http://127.0.0.1:%d" % self.port, name="soak", **kw)
        if data_dir:
            self.depot.data_dir = data_dir
        self.host = "127.0.0.1"
        self.token = None
        self.jwt = None

    @property
    def base(self):
        return "http://%s:%d" % (self.host, self.port)

    def start(self):
        self.depot.start()
        return self

    def setup_account(self):
        d = self.depot
        r = d.register("soaker", "soaker@example.com", "soak-password-1")
        if r.status != 201:
            raise AssertionError("register: %s" % r.describe())
        self.jwt = d.jwt("soaker", "soak-password-1")
        r = d.create_token("Bearer " + self.jwt, "soak", ["publish"])
        if r.status != 201:
            raise AssertionError("token: %s" % r.describe())
        self.token = r.json()["token"]

    def call(self, method, path, body=None, headers=None, timeout=30.0):
        return http_call(self.host, self.port, method, path, body, headers, timeout)

    # ---- publishing --------------------------------------------------------------------------

    def publish(self, eco, name, version, wire, timeout=30.0):
        """Publishes as eco's client does; returns (status, body) of the answer that decides
        (pub: the finalize, or the first step that failed). Raises Cut."""
        bearer = {"Authorization": "Bearer " + self.token}
        if eco == "native":
            body, ctype = multipart_body([
                Part("tarball", wire, "package.tar.gz", "application/gzip"),
                Part("metadata", json.dumps(manifest(name, version)), None, "application/json")])
            st, _, b = self.call("POST", "/api/v1/packages", body,
                                 dict(bearer, **{"Content-Type": ctype}), timeout)
            return st, b
        if eco == "hex":
            st, _, b = self.call("POST", "/hex/api/publish?replace=false", wire,
                                 {"Authorization": self.token, "Accept": ETF,
                                  "Content-Type": "application/octet-stream"}, timeout)
            return st, b
        if eco == "npm":
            doc = publish_doc(name, version, tarball=wire, registry=self.base + "/npm/")
            st, _, b = self.call("PUT", "/npm/" + name, json.dumps(doc).encode(),
                                 dict(bearer, **{"Content-Type": "application/json"}), timeout)
            return st, b
        # pub: the three steps of `dart pub publish`
        st, _, b = self.call("GET", "/pub/api/packages/versions/new", None,
                             dict(bearer, Accept=PUB_JSON), timeout)
        if st != 200:
            return st, b
        form = json.loads(b)
        boundary = "dart-http-boundary-soak%016x" % int.from_bytes(os.urandom(8), "big")
        body = DartPub.multipart(list(form["fields"].items()), wire, boundary)
        st, h, b = self.call("POST", urllib.parse.urlsplit(form["url"]).path, body,
                             dict(bearer, **{"Content-Type": "multipart/form-data; boundary="
                                             + boundary}), timeout)
        if st not in (302, 303) or "location" not in h:
            return st, b
        loc = urllib.parse.urlsplit(h["location"])
        st, _, b = self.call("GET", loc.path + ("?" + loc.query if loc.query else ""), None,
                             dict(bearer, Accept=PUB_JSON), timeout)
        return st, b

    # ---- reading back ------------------------------------------------------------------------

    def _get(self, path, headers=None):
        st, h, b = self.call("GET", path, None, headers)
        if st not in (200, 404):
            raise AssertionError("GET %s: %d %r" % (path, st, b[:300]))
        return st, h, b

    def _download(self, path):
        st, _, b = self._get(path)
        return sha256(b) if st == 200 else None

    def observe(self, eco, name, version):
        """[(where, sha256 or None)]: the SHA-256 every document of eco gives for name@version
        (None: that document does not have it) and that of the bytes its download gives."""
        out = []
        if eco == "native":
            st, _, b = self._get("/api/v1/packages/" + name)
            vs = {v["version"]: v for v in json.loads(b)["versions"]} if st == 200 else {}
            out.append(("package document", vs.get(version, {}).get("sha256")))
            st, _, b = self._get("/api/v1/packages/%s/versions/%s" % (name, version))
            out.append(("version document", json.loads(b)["sha256"] if st == 200 else None))
            out.append(("download", self._download(
                "/api/v1/packages/%s/versions/%s/download" % (name, version))))
        elif eco == "hex":
            st, _, b = self._get("/hex/repo/packages/" + name)
            rels = {}
            if st == 200:
                rels = {r["version"]: r for r in decode_package(open_registry(b)[0])["releases"]}
            outer = rels.get(version, {}).get("outer")
            out.append(("registry /packages", outer.hex() if outer else None))
            st, _, b = self._get("/hex/api/packages/%s/releases/%s" % (name, version),
                                 {"Accept": "application/json"})
            out.append(("api release", json.loads(b)["checksum"] if st == 200 else None))
            out.append(("tarball", self._download("/hex/repo/tarballs/%s-%s.tar" % (name, version))))
        elif eco == "npm":
            for label, accept in (("packument", "application/json"),
                                  ("corgi packument", "application/vnd.npm.install-v1+json")):
                st, _, b = self._get("/npm/" + name, {"Accept": accept})
                v = json.loads(b)["versions"].get(version) if st == 200 else None
                integ = v["dist"]["integrity"] if v else None
                out.append((label, base64.b64decode(integ[7:]).hex() if integ else None))
                if label == "packument":
                    tarball = urllib.parse.urlsplit(v["dist"]["tarball"]).path if v else None
            out.append(("tarball", self._download(
                tarball or "/npm/%s/-/%s-%s.tgz" % (name, name, version))))
        else:
            st, _, b = self._get("/pub/api/packages/" + name, {"Accept": PUB_JSON})
            vs = {}
            if st == 200:
                vs = {v["version"]: v for v in json.loads(b)["versions"]}
            v = vs.get(version)
            out.append(("listing", v["archive_sha256"] if v else None))
            st, _, b = self._get("/pub/api/packages/%s/versions/%s" % (name, version),
                                 {"Accept": PUB_JSON})
            out.append(("version", json.loads(b)["archive_sha256"] if st == 200 else None))
            path = (urllib.parse.urlsplit(v["archive_url"]).path if v
                    else "/pub/packages/%s/versions/%s.tar.gz" % (name, version))
            out.append(("archive", self._download(path)))
        return out

    def state(self, eco, name, version, tarball):
        """'present' (every document has it with tarball's digest and the download gives those
        bytes), 'absent' (none has it) or a sentence saying what is half there."""
        obs = self.observe(eco, name, version)
        want = {"npm": hashlib.sha512(tarball).hexdigest()}.get(eco, sha256(tarball))
        digest = {w: (want if w in ("packument", "corgi packument") else sha256(tarball))
                  for w, _ in obs}
        if all(v is None for _, v in obs):
            return "absent"
        if all(v == digest[w] for w, v in obs):
            return "present"
        return "half there: " + ", ".join(
            "%s %s" % (w, "missing" if v is None else "ok" if v == digest[w] else "WRONG " + v)
            for w, v in obs)

    # ---- the data folder ---------------------------------------------------------------------

    def temp_files(self):
        """Names of the files in the blob store's temp folder (the default blob folder)."""
        tmp = os.path.join(self.depot.data_dir, "blobs", "tmp")
        try:
            return sorted(f for f in os.listdir(tmp) if not f.startswith("."))
        except FileNotFoundError:
            return []

    def integrity_check(self):
        db = sqlite3.connect(os.path.join(self.depot.data_dir, "depot.db"), timeout=30)
        try:
            return "\n".join(r[0] for r in db.execute("PRAGMA integrity_check"))
        finally:
            db.close()

    def fsck(self):
        """(ok, output) of `depot fsck` (on the server's blob store)."""
        args = self.depot.extra_args
        blobs = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--blobs"]
        p = self.depot.cli("fsck", *(["--blobs", blobs[0]] if blobs else []), timeout=300)
        return p.returncode == 0 and "fsck: clean" in p.stdout, p.stdout + p.stderr
