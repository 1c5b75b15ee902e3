"""
npmtest.py — shared pieces of the npm front's black-box tests: npm-style tarballs
(package/package.json), publish documents shaped as npm 11 sends them, and NpmTestCase, whose
invariants check npm's error shape ({"error": "<message>", "code": ...}) on /npm/ paths.
"""

import base64
import gzip
import hashlib
import io
import json
import tarfile

from apitest import DepotTestCase, leak_problems  # noqa: F401

NPM = "/npm"
CORGI = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"


def esc(name):
    """npm's escaping of a name in packument URLs: only the scope's slash, as %2f."""
    return name.replace("/", "%2f") if name.startswith("@") else name


def base(name):
    return name.split("/", 1)[1] if name.startswith("@") else name


def npm_tarball(name, version, files=None, pkg=None, top="package"):
    """A .tgz as npm pack makes it: everything under package/, with package.json."""
    pj = {"name": name, "version": version, "description": "the %s package" % name,
          "main": "index.js", "license": "MIT"}
    pj.update(pkg or {})
    entries = {"package.json": json.dumps(pj, indent=2),
               "index.js": "module.exports = %r;\n" % ("%s@%s" % (name, version)),
               "README.md": "# %s\n\nversion %s\n" % (name, version)}
    entries.update(files or {})
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for path, data in entries.items():
            if isinstance(data, str):
                data = data.encode()
            ti = tarfile.TarInfo("%s/%s" % (top, path) if top else path)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 499162500
            t.addfile(ti, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as g:
        g.write(raw.getvalue())
    return out.getvalue()


def integrity(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def shasum(data):
    return hashlib.sha1(data).hexdigest()


def publish_doc(name, version, tarball=None, tag="latest", pkg=None, registry="http://x/npm/",
                readme=None, dist=None):
    """The body npm 11 PUTs for `npm publish` (fact sheet section 9.1)."""
    tarball = tarball if tarball is not None else npm_tarball(name, version, pkg=pkg)
    man = {"name": name, "version": version, "description": "the %s package" % name,
           "main": "index.js", "license": "MIT"}
    man.update(pkg or {})
    man.update({"readme": readme or "ERROR: No README data found!",
                "_id": "%s@%s" % (name, version), "_nodeVersion": "20.20.2",
                "_npmVersion": "11.19.1",
                "dist": dist if dist is not None else {
                    "integrity": integrity(tarball), "shasum": shasum(tarball),
                    "tarball": "%s%s/-/%s-%s.tgz" % (registry, name, name, version)}})
    return {"_id": name, "name": name, "description": man.get("description"),
            "dist-tags": {tag: version} if tag else {},
            "versions": {version: man}, "access": None,
            "_attachments": {"%s-%s.tgz" % (name, version): {
                "content_type": "application/octet-stream",
                "data": base64.b64encode(tarball).decode(), "length": len(tarball)}}}


def npm_error_problems(r):
    out = []
    ct = (r.headers.get("Content-Type") or "").lower()
    if not ct.startswith("application/json"):
        out.append("npm error with Content-Type %r" % ct)
    try:
        obj = json.loads(r.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return out + ["npm error body is not JSON"] + leak_problems(r)
    if not isinstance(obj, dict) or not isinstance(obj.get("error"), str) or not obj["error"]:
        out.append('npm error body lacks an "error" string (npm prints it)')
    elif not isinstance(obj.get("code"), str):
        out.append('npm error body lacks a "code" string')
    return out + leak_problems(r)


class NpmTestCase(DepotTestCase):

    @staticmethod
    def invariant_problems(r):
        path = (r.path or "").split("?")[0]
        if not path.startswith(NPM + "/"):
            return DepotTestCase.invariant_problems(r)
        out = []
        if not r.headers.get("X-Request-Id"):
            out.append("no X-Request-Id header")
        if r.status >= 400:
            out.extend(npm_error_problems(r))
        if r.status == 401 and not r.headers.get_all("WWW-Authenticate"):
            out.append("401 without WWW-Authenticate")
        return out

    # ---- helpers ----------------------------------------------------------------------------

    def npm(self, method, path, auth=None, json_body=None, headers=None, body=None, depot=None):
        d = depot or self.depot
        return d.request(method, NPM + path, json=json_body, auth=auth, headers=headers, body=body)

    def npm_publish(self, auth, name, version, depot=None, **kw):
        doc = kw.pop("doc", None) or publish_doc(name, version, **kw)
        return self.npm("PUT", "/" + esc(name), auth=auth, json_body=doc, depot=depot)

    def packument(self, name, auth=None, corgi=False, depot=None):
        h = {"Accept": CORGI if corgi else "application/json"}
        return self.npm("GET", "/" + esc(name), auth=auth, headers=h, depot=depot)

    def npm_token(self, user, depot=None):
        """npm login for user: the token the couch PUT answers."""
        r = self.npm("PUT", "/-/user/org.couchdb.user:" + user.username, depot=depot,
                     json_body={"_id": "org.couchdb.user:" + user.username,
                                "name": user.username, "password": user.password,
                                "type": "user", "roles": [], "date": "2026-01-01T00:00:00.000Z"})
        self.assertStatus(r, 201)
        return "Bearer " + r.json()["token"]

    def assertNpmError(self, r, status, words=None):
        self.assertStatus(r, status)
        problems = npm_error_problems(r)
        if problems:
            self.fail("; ".join(problems) + ": " + r.describe())
        if words:
            self.assertIn(words.lower(), r.json()["error"].lower(), r.describe())
        return r.json()
