"""
nativetest.py — shared pieces of the native ecosystem's black-box tests: tarballs built in
memory, manifests, a publish helper, Ed25519 keys (through the openssl command line), and
NativeTestCase, the base class with package-level helpers and assertions.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import unittest
import urllib.parse
import zlib

from apitest import DepotTestCase  # noqa: F401  (sys.path is set up by the runner / apitest)

PACKAGES = "/api/v1/packages"


# ---------------------------------------------------------------------------------------------
# Tarballs


def targz(files, gz=True):
    """A .tar.gz (bytes) holding files: a dict {path: bytes|str} or a list of (path, data).
    Paths are written as given (so '../x' and '/abs' can be made). Deterministic: same files,
    same bytes."""
    items = files.items() if isinstance(files, dict) else files
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, data in items:
            if isinstance(data, str):
                data = data.encode()
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
    if not gz:
        return raw.getvalue()
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as g:
        g.write(raw.getvalue())
    return out.getvalue()


def gzip_bomb(expanded=60 << 20, name="zeros.bin"):
    """A valid .tar.gz whose one entry is `expanded` zero bytes: a few tens of KiB on the wire,
    a ratio near 1000:1. Built by streaming zeros through zlib (fast, little memory)."""
    head = tarfile.TarInfo(name)
    head.size = expanded
    head.mode = 0o644
    head.mtime = 1700000000
    header = head.tobuf(format=tarfile.USTAR_FORMAT)
    co = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip wrapper
    out = [co.compress(header)]
    chunk = bytes(1 << 20)
    left = expanded
    while left > 0:
        n = min(left, len(chunk))
        out.append(co.compress(chunk[:n]))
        left -= n
    pad = (-expanded) % 512
    out.append(co.compress(bytes(pad + 1024)))  # padding, then the two end blocks
    out.append(co.flush())
    return b"".join(out)


def manifest(name, version="1.0.0", **fields):
    m = {"name": name, "version": version, "description": "the %s package" % name,
         "license": "MIT"}
    m.update(fields)
    return {k: v for k, v in m.items() if v is not None}


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# Ed25519 through the openssl command line


_openssl_ok = None
_openssl_lock = threading.Lock()


def openssl_ed25519():
    """True when `openssl genpkey -algorithm ed25519` and `pkeyutl -sign -rawin` work here."""
    global _openssl_ok
    with _openssl_lock:
        if _openssl_ok is None:
            try:
                k = SigningKey()
                sig = k.sign(b"probe")
                _openssl_ok = len(sig) == 64 and len(k.public_raw) == 32
                k.close()
            except (OSError, subprocess.SubprocessError, ValueError):
                _openssl_ok = False
        return _openssl_ok


class SigningKey:
    """An Ed25519 key pair held by openssl in a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="depot-key-")
        self.pem = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", self.pem],
                       check=True, capture_output=True, timeout=20)
        der = subprocess.run(["openssl", "pkey", "-in", self.pem, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True, timeout=20).stdout
        # SubjectPublicKeyInfo for Ed25519: a 12-byte prefix, then the 32-byte key.
        if len(der) != 44:
            raise ValueError("unexpected Ed25519 public key encoding (%d bytes)" % len(der))
        self.public_raw = der[-32:]
        self.public_b64 = base64.b64encode(self.public_raw).decode()
        self.key_id = hashlib.sha256(self.public_raw).digest()[:8].hex()
        self._n = 0

    def sign(self, data):
        self._n += 1
        msg = os.path.join(self.dir, "msg%d" % self._n)
        with open(msg, "wb") as f:
            f.write(data)
        try:
            return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", self.pem,
                                   "-in", msg], check=True, capture_output=True,
                                  timeout=20).stdout
        finally:
            os.unlink(msg)

    def sign_b64(self, data):
        return base64.b64encode(self.sign(data)).decode()

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The base class


class NativeTestCase(DepotTestCase):

    @staticmethod
    def invariant_problems(r):
        out = DepotTestCase.invariant_problems(r)
        # docs/api.md: POST /api/v1/resolve answers a conflict with 422 `unresolvable` (a
        # documented code beside the table's `invalid`).
        if r.status == 422 and (r.path or "").split("?")[0].endswith("/resolve"):
            out = [p for p in out if "got 'unresolvable'" not in p]
        return out

    # ---- names and URLs ---------------------------------------------------------------------

    @classmethod
    def pkgname(cls, prefix="p"):
        return cls.uniq(prefix)

    @staticmethod
    def path_of(url):
        """The path (and query) of an absolute URL the server printed."""
        u = urllib.parse.urlsplit(url)
        return u.path + ("?" + u.query if u.query else "")

    # ---- publishing -------------------------------------------------------------------------

    @staticmethod
    def tarball_for(name, version, extra_files=None, depot_json=None, readme=None):
        files = [("src/main.txt", "%s %s %s\n" % (name, version, os.urandom(6).hex()))]
        if depot_json is not None:
            files.append(("depot.json", json.dumps(depot_json)))
        if readme is not None:
            files.append(("README.md", readme))
        for k, v in (extra_files or {}).items():
            files.append((k, v))
        return targz(files)

    def publish(self, auth, name, version="1.0.0", how="metadata", meta=None, tarball=None,
                files=None, readme=None, signature=None, depot=None, **fields):
        """Publishes name@version; how: 'metadata' (a metadata part only), 'file' (depot.json
        in the tarball only), 'both'. meta: a whole manifest (else built from fields).
        signature: bytes/str sent as is, or a SigningKey (signs the tarball).
        Returns (response, tarball bytes)."""
        d = depot or self.depot
        m = meta if meta is not None else manifest(name, version, **fields)
        if tarball is None:
            tarball = self.tarball_for(name, version, files,
                                       depot_json=m if how in ("file", "both") else None,
                                       readme=readme)
        if isinstance(signature, SigningKey):
            signature = signature.sign_b64(tarball)
        r = d.publish(tarball, metadata=m if how in ("metadata", "both") else None,
                      signature=signature, auth=auth)
        return r, tarball

    def published(self, auth, name, version="1.0.0", **kw):
        """Publishes and asserts 201; returns (version document, tarball bytes)."""
        r, tb = self.publish(auth, name, version, **kw)
        doc = self.assertJSON(r, 201)
        self.assertEqual(doc["name"], name)
        self.assertEqual(doc["version"], version)
        return doc, tb

    # ---- reads ------------------------------------------------------------------------------

    def package(self, name, auth=None, depot=None):
        d = depot or self.depot
        return self.assertJSON(d.get("%s/%s" % (PACKAGES, name), auth=auth))

    def state(self, name, depot=None):
        """What a refused write must leave alone: versions with yanked flags, owners,
        require_signatures (None when the package does not exist)."""
        d = depot or self.depot
        r = d.get("%s/%s" % (PACKAGES, name))
        if r.status == 404:
            return None
        doc = self.assertJSON(r)
        owners = self.assertJSON(d.get("%s/%s/owners" % (PACKAGES, name)))["owners"]
        return {"versions": [(v["version"], v["yanked"], v["sha256"]) for v in doc["versions"]],
                "latest": doc["latest"],
                "owners": sorted(o["username"] for o in owners),
                "require_signatures": doc["require_signatures"]}

    def versions(self, name):
        return [v["version"] for v in self.package(name)["versions"]]

    def resolve(self, deps, auth=None, depot=None, **extra):
        d = depot or self.depot
        body = {"dependencies": deps}
        body.update(extra)
        return d.post("/api/v1/resolve", json=body, auth=auth)

    def assertUnresolvable(self, r, *names):
        """r is resolve's 422 `unresolvable` (docs/api.md) and its message names each of
        names. Returns the error object."""
        self.assertStatus(r, 422)
        problems = [p for p in self.invariant_problems(r)]
        if problems:
            self.fail("; ".join(problems) + ": " + r.describe())
        err = r.json()["error"]
        self.assertEqual(err["code"], "unresolvable", r.describe())
        for n in names:
            self.assertIn(n, err["message"], "the message should name %s: %s"
                          % (n, r.describe()))
        return err

    def wait_until(self, pred, timeout=8.0, step=0.25):
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v or time.monotonic() >= deadline:
                return v
            time.sleep(step)


def needs_openssl(cls_or_fn):
    return unittest.skipUnless(openssl_ed25519(),
                               "openssl cannot make Ed25519 signatures here")(cls_or_fn)
