"""Hosted docs sites: uploading a version's docs (raw body or multipart), serving them under
/docs/{ecosystem}/{name}/{version}/ with content types, ETags and sandboxing headers, the
redirects that make relative links work, replacing and removing a site, who may do it, hostile
archives (nothing is recorded), '..' in URLs, --private and --docs-url."""

import gzip
import hashlib
import io
import os
import tarfile
import urllib.parse
import zlib

from native.nativetest import PACKAGES, NativeTestCase, gzip_bomb, sha256_hex, targz

CSP = ("sandbox allow-scripts allow-popups allow-forms; "
       "default-src 'self' 'unsafe-inline' data:")

SITE = {
    "index.html": "<!doctype html><title>home</title><link rel=stylesheet href=css/site.css>",
    "css/site.css": "body { color: #333 }",
    "js/app.js": "console.log('hi')",
    "data/search.json": '{"items": []}',
    "img/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'></svg>",
    "img/pic.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
    "img/pic.jpeg": b"\xff\xd8\xff\xe0" + b"\x01" * 20,
    "fonts/a.woff2": b"wOF2" + b"\x02" * 30,
    "notes.md": "# notes",
    "readme.txt": "plain",
    "feed.xml": "<feed/>",
    "app.wasm": b"\x00asm\x01\x00\x00\x00",
    "manual.pdf": b"%PDF-1.4\n",
    "app.js.map": "{}",
    "api/index.html": "<!doctype html><title>api</title>",
    "api/Mod.html": "<!doctype html><title>Mod</title>",
    "blob.xyz": b"\x00\x01\x02",
}

TYPES = {
    "index.html": "text/html", "css/site.css": "text/css", "js/app.js": "text/javascript",
    "data/search.json": "application/json", "img/logo.svg": "image/svg+xml",
    "img/pic.png": "image/png", "img/pic.jpeg": "image/jpeg", "fonts/a.woff2": "font/woff2",
    "notes.md": "text/markdown", "readme.txt": "text/plain", "feed.xml": "application/xml",
    "app.wasm": "application/wasm", "manual.pdf": "application/pdf",
    "app.js.map": "application/json", "api/Mod.html": "text/html",
    "blob.xyz": "application/octet-stream",
}


def as_bytes(v):
    return v.encode() if isinstance(v, str) else v


def special_tar(kind, name="evil", target="index.html"):
    """A .tar.gz holding index.html and one entry of kind: symlink, hardlink, fifo, chardev."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        data = b"<p>hi</p>"
        ti = tarfile.TarInfo("index.html")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
        ti = tarfile.TarInfo(name)
        ti.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                   "fifo": tarfile.FIFOTYPE, "chardev": tarfile.CHRTYPE}[kind]
        if kind in ("symlink", "hardlink"):
            ti.linkname = target
        t.addfile(ti)
    return gzip.compress(raw.getvalue(), mtime=0)


def tar_with_dirs(items):
    """A .tar.gz of (path, data) pairs where data None makes a directory entry."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, data in items:
            ti = tarfile.TarInfo(path)
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            else:
                data = as_bytes(data)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def big_tar(nfiles, file_size, extra=()):
    """A .tar.gz of nfiles files of file_size bytes each (f000.bin ...) that compresses about
    50:1 (under the ratio cap), streamed through zlib so that it costs little memory, then the
    (path, bytes) pairs of extra. Returns (archive bytes, {path: sha256 hex})."""
    co = zlib.compressobj(1, zlib.DEFLATED, 31)
    out, shas = [], {}

    def entry(path, size, chunks):
        ti = tarfile.TarInfo(path)
        ti.size = size
        out.append(co.compress(ti.tobuf(format=tarfile.USTAR_FORMAT)))
        h = hashlib.sha256()
        for c in chunks:
            h.update(c)
            out.append(co.compress(c))
        out.append(co.compress(bytes((-size) % 512)))
        shas[path] = h.hexdigest()

    def filler(size):
        left = size
        while left > 0:
            block = (os.urandom(1300) + bytes(63 * 1024)) * 16  # ~1 MiB, ~50:1
            n = min(left, len(block))
            yield block[:n]
            left -= n

    for i in range(nfiles):
        entry("f%03d.bin" % i, file_size, filler(file_size))
    for path, data in extra:
        data = as_bytes(data)
        entry(path, len(data), [data])
    out.append(co.compress(bytes(1024)))
    out.append(co.flush())
    return b"".join(out), shas


class DocsCase(NativeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="doc")

    def docs_api(self, name, version):
        return "%s/%s/versions/%s/docs" % (PACKAGES, name, version)

    def upload(self, name, version, tgz, auth=None, how="raw", ctype="application/gzip",
               depot=None):
        d = depot or self.depot
        auth = self.owner.bearer if auth is None else auth
        path = self.docs_api(name, version)
        if how == "multipart":
            from depot import Part, multipart_body
            body, ct = multipart_body([Part("docs", tgz, "docs.tar.gz", "application/gzip")])
            return d.request("POST", path, body=body, headers={"Content-Type": ct},
                             auth=auth or None)
        headers = {"Content-Type": ctype} if ctype else {}
        return d.request("POST", path, body=tgz, headers=headers, auth=auth or None)

    def uploaded(self, name, version, files, **kw):
        r = self.upload(name, version, targz(files), **kw)
        doc = self.assertJSON(r, 201)
        return doc

    def site(self, name, version=None, path=""):
        p = "/docs/native/%s" % name
        if version is not None:
            p += "/%s/%s" % (version, path)
        return p

    def assertGuarded(self, r):
        self.assertEqual(r.headers.get("Content-Security-Policy"), CSP, r.describe())
        self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff", r.describe())
        self.assertEqual(r.headers.get("Referrer-Policy"), "no-referrer", r.describe())

    def assertPage(self, r, body, ctype=None):
        self.assertStatus(r, 200)
        self.assertEqual(r.body, as_bytes(body))
        if ctype:
            self.assertTrue((r.headers.get("Content-Type") or "").startswith(ctype),
                            "%s: Content-Type %r" % (r.path, r.headers.get("Content-Type")))
        self.assertEqual(r.headers.get("ETag"), '"%s"' % sha256_hex(as_bytes(body)))
        self.assertGuarded(r)

    def blob_files(self, depot=None):
        d = depot or self.depot
        root = os.path.join(d.data_dir, "blobs")
        out = set()
        for dirpath, dirs, files in os.walk(root):
            if os.path.relpath(dirpath, root).split(os.sep)[0] == "tmp":
                continue
            out.update(files)
        return out


class Sites(DocsCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.name = cls.uniq("site")
        for v in ("1.0.0", "1.1.0"):
            r, _ = cls.publish(cls, cls.owner.bearer, cls.name, v)
            assert r.status == 201, r.describe()

    def test_upload_and_serve(self):
        doc = self.uploaded(self.name, "1.0.0", SITE)
        self.assertEqual(doc["url"], "%s/docs/native/%s/1.0.0/" % (self.depot.url, self.name))
        self.assertEqual(doc["name"], self.name)
        self.assertEqual(doc["version"], "1.0.0")
        for path, want in TYPES.items():
            with self.subTest(path=path):
                self.assertPage(self.depot.get(self.site(self.name, "1.0.0", path)), SITE[path],
                                want)
        # the folder URL is its index.html, for the root and below
        self.assertPage(self.depot.get(self.site(self.name, "1.0.0")), SITE["index.html"],
                        "text/html")
        self.assertPage(self.depot.get(self.site(self.name, "1.0.0", "api/")),
                        SITE["api/index.html"], "text/html")
        # HEAD: the headers, no body
        r = self.depot.request("HEAD", self.site(self.name, "1.0.0", "css/site.css"))
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.headers.get("Content-Length"), str(len(SITE["css/site.css"])))
        self.assertGuarded(r)

    def test_redirects(self):
        name = self.uniq("redir")
        self.published(self.owner.bearer, name, "1.0.0")
        self.published(self.owner.bearer, name, "1.1.0")
        # no docs yet: the package URL is a 404
        r = self.depot.get("/docs/native/%s" % name)
        self.assertError(r, 404)
        self.assertGuarded(r)
        self.uploaded(name, "1.0.0", {"index.html": "one", "sub/index.html": "sub"})

        def follow(path, status, location):
            r = self.depot.get(path)
            self.assertStatus(r, status)
            self.assertEqual(r.headers.get("Location"), location, r.describe())
            self.assertGuarded(r)
            return urllib.parse.urljoin(path, location)

        # package → its latest docs' root; version → its root, so relative links work
        self.assertEqual(follow("/docs/native/%s" % name, 302, "./%s/1.0.0/" % name),
                         "/docs/native/%s/1.0.0/" % name)
        self.assertEqual(follow("/docs/native/%s/" % name, 302, "./1.0.0/"),
                         "/docs/native/%s/1.0.0/" % name)
        self.assertEqual(follow("/docs/native/%s/1.0.0" % name, 301, "./1.0.0/"),
                         "/docs/native/%s/1.0.0/" % name)
        self.assertEqual(follow("/docs/native/%s/1.0.0/sub" % name, 301, "./sub/"),
                         "/docs/native/%s/1.0.0/sub/" % name)
        self.assertPage(self.depot.get("/docs/native/%s/1.0.0/sub/" % name), "sub")
        # a newer version with docs becomes the target; a yanked one stops being it; a
        # prerelease is not picked over a release
        self.uploaded(name, "1.1.0", {"index.html": "two"})
        follow("/docs/native/%s/" % name, 302, "./1.1.0/")
        r = self.depot.request("PUT", "%s/%s/versions/1.1.0/yank" % (PACKAGES, name),
                               auth=self.owner.bearer)
        self.assertStatus(r, 200)
        follow("/docs/native/%s/" % name, 302, "./1.0.0/")
        self.published(self.owner.bearer, name, "2.0.0-rc.1")
        self.uploaded(name, "2.0.0-rc.1", {"index.html": "rc"})
        follow("/docs/native/%s/" % name, 302, "./1.0.0/")
        # the yanked version's docs still serve by exact version
        self.assertPage(self.depot.get("/docs/native/%s/1.1.0/" % name), "two")

    def test_not_found(self):
        name = self.uniq("nf")
        self.published(self.owner.bearer, name, "1.0.0")
        self.published(self.owner.bearer, name, "1.1.0")
        self.uploaded(name, "1.0.0", {"index.html": "x", "a/b.css": "b"})
        for path in ("/docs/native/%s/1.0.0/nope.html" % name,
                     "/docs/native/%s/1.0.0/a/" % name,          # a folder without index.html
                     "/docs/native/%s/1.0.0/a/b.css/" % name,
                     "/docs/native/%s/1.1.0/" % name,            # a version without docs
                     "/docs/native/%s/9.9.9/index.html" % name,  # no such version
                     "/docs/native/%s/1.0.0/" % self.uniq("none"),
                     "/docs/native/%s" % self.uniq("none"),
                     "/docs/cobol/%s/1.0.0/" % name):
            with self.subTest(path=path):
                r = self.depot.get(path)
                self.assertError(r, 404)
                self.assertGuarded(r)

    def test_npm_scopes_in_either_spelling(self):
        """@scope/name with a real '/' is one name, like @scope%2Fname (no such package here:
        the 404 names the whole scoped name)."""
        r = self.depot.get("/docs/npm/@sc/nopkg/1.0.0")
        self.assertStatus(r, 301)
        self.assertEqual(r.headers.get("Location"), "./1.0.0/")
        for path in ("/docs/npm/@sc/nopkg", "/docs/npm/@sc/nopkg/", "/docs/npm/@sc/nopkg/1.0.0/",
                     "/docs/npm/@sc/nopkg/1.0.0/a/b.html",
                     "/docs/npm/@sc%2Fnopkg/1.0.0/", "/docs/npm/@sc%2Fnopkg"):
            with self.subTest(path=path):
                err = self.assertError(self.depot.get(path), 404)
                self.assertIn("@sc/nopkg", err["message"])
        err = self.assertError(self.depot.get("/docs/npm/@sc"), 404)
        self.assertIn("scope", err["message"])

    def test_etag_304(self):
        name = self.uniq("etag")
        self.published(self.owner.bearer, name, "1.0.0")
        self.uploaded(name, "1.0.0", {"index.html": "<p>etag</p>", "same.html": "<p>etag</p>"})
        r = self.depot.get(self.site(name, "1.0.0", "index.html"))
        self.assertPage(r, "<p>etag</p>")
        etag = r.headers["ETag"]
        self.assertIn("max-age", r.headers.get("Cache-Control", ""))
        # identical bytes share a blob, so the same ETag
        self.assertEqual(self.depot.get(self.site(name, "1.0.0", "same.html")).headers["ETag"],
                         etag)
        for inm in (etag, 'W/"x", ' + etag, "*"):
            with self.subTest(inm=inm):
                r = self.depot.get(self.site(name, "1.0.0"), headers={"If-None-Match": inm})
                self.assertStatus(r, 304)
                self.assertEqual(r.body, b"")
                self.assertEqual(r.headers.get("ETag"), etag)
                self.assertGuarded(r)
        r = self.depot.get(self.site(name, "1.0.0"), headers={"If-None-Match": '"other"'})
        self.assertPage(r, "<p>etag</p>")

    def test_cors_for_the_sandboxed_page_itself(self):
        """A sandboxed page's CORS requests (modules, fetch of its own JSON) carry Origin: null;
        files answer them with ACAO *, never with credentials; other origins get nothing."""
        name = self.uniq("cors")
        self.published(self.owner.bearer, name, "1.0.0")
        self.uploaded(name, "1.0.0", {"index.html": "i", "search.json": "{}"})
        path = self.site(name, "1.0.0", "search.json")
        r = self.depot.get(path, headers={"Origin": "null"})
        self.assertPage(r, "{}", "application/json")
        self.assertEqual(r.headers.get_all("Access-Control-Allow-Origin"), ["*"])
        self.assertIsNone(r.headers.get("Access-Control-Allow-Credentials"))
        self.assertIn("Origin", ", ".join(r.headers.get_all("Vary")))
        r = self.depot.get(path, headers={"Origin": "https://elsewhere.example"})
        self.assertPage(r, "{}")
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))
        r = self.depot.get(path)
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))

    def test_top_level_folder_is_the_root(self):
        name = self.uniq("top")
        self.published(self.owner.bearer, name, "1.0.0")
        r = self.upload(name, "1.0.0", tar_with_dirs([("doc", None), ("doc/x", None),
                                                      ("doc/index.html", "top"),
                                                      ("doc/x/y.css", "y")]))
        self.assertJSON(r, 201)
        self.assertPage(self.depot.get(self.site(name, "1.0.0")), "top")
        self.assertPage(self.depot.get(self.site(name, "1.0.0", "x/y.css")), "y", "text/css")
        # without an index.html in it, the folder stays a folder
        self.uploaded(name, "1.0.0", {"doc/a.html": "a"})
        self.assertPage(self.depot.get(self.site(name, "1.0.0", "doc/a.html")), "a")

    def test_dot_segments_never_escape(self):
        name = self.uniq("dots")
        self.published(self.owner.bearer, name, "1.0.0")
        self.uploaded(name, "1.0.0", {"index.html": "in", "a/b.html": "b"})
        base = "/docs/native/%s/1.0.0/" % name
        for tail in ("../../../../etc/passwd", "a/../index.html", "a/%2e%2e/index.html",
                     "%2e%2e/%2e%2e/%2e%2e/health", "./index.html", "a/./b.html",
                     "..%2f..%2f..%2fhealth", "a/..", "%2e%2e"):
            with self.subTest(tail=tail):
                r = self.depot.get(base + tail)
                self.assertIn(r.status, (400, 404), r.describe())
                self.assertGuarded(r)
        # a NUL never gets through
        r = self.depot.get(base + "index.html%00.png")
        self.assertIn(r.status, (400, 404), r.describe())


class BigSite(DocsCase):

    def test_site_stored_in_several_passes(self):
        """45 MiB of files, more than one storing pass holds: every file arrives whole."""
        name = self.uniq("big")
        self.published(self.owner.bearer, name, "1.0.0")
        tgz, shas = big_tar(3, 15 << 20, extra=[("index.html", "<p>big</p>"),
                                                ("last.css", "p{}")])
        self.assertJSON(self.upload(name, "1.0.0", tgz), 201)
        for path, sha in shas.items():
            with self.subTest(path=path):
                r = self.depot.get(self.site(name, "1.0.0", path))
                self.assertStatus(r, 200)
                self.assertEqual(hashlib.sha256(r.body).hexdigest(), sha)
                self.assertEqual(r.headers.get("ETag"), '"%s"' % sha)
        # the largest file a site may hold
        tgz, shas = big_tar(1, 20 << 20, extra=[("index.html", "max")])
        self.assertJSON(self.upload(name, "1.0.0", tgz), 201)
        r = self.depot.get(self.site(name, "1.0.0", "f000.bin"))
        self.assertEqual(len(r.body), 20 << 20)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), shas["f000.bin"])


class Uploads(DocsCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.register_user(prefix="oth")

    def fresh(self, versions=("1.0.0",)):
        name = self.uniq("up")
        for v in versions:
            self.published(self.owner.bearer, name, v)
        return name

    def test_multipart_and_raw_bodies(self):
        name = self.fresh(("1.0.0", "1.1.0", "1.2.0"))
        r = self.upload(name, "1.0.0", targz({"index.html": "mp"}), how="multipart")
        self.assertEqual(self.assertJSON(r, 201)["url"],
                         "%s/docs/native/%s/1.0.0/" % (self.depot.url, name))
        self.assertPage(self.depot.get(self.site(name, "1.0.0")), "mp")
        self.assertJSON(self.upload(name, "1.1.0", targz({"index.html": "oct"}),
                                    ctype="application/octet-stream"), 201)
        self.assertJSON(self.upload(name, "1.2.0", targz({"index.html": "none"}), ctype=None),
                        201)
        self.assertPage(self.depot.get(self.site(name, "1.2.0")), "none")
        # the /api/ alias
        r = self.depot.request("POST", "/api/packages/%s/versions/1.2.0/docs" % name,
                               body=targz({"index.html": "alias"}),
                               headers={"Content-Type": "application/gzip"},
                               auth=self.owner.bearer)
        self.assertJSON(r, 201)
        # problems with the body itself
        from depot import Part, multipart_body
        body, ct = multipart_body([Part("tarball", targz({"index.html": "x"}), "d.tgz")])
        r = self.depot.request("POST", self.docs_api(name, "1.0.0"), body=body,
                               headers={"Content-Type": ct}, auth=self.owner.bearer)
        self.assertError(r, 400, field="docs")
        r = self.upload(name, "1.0.0", targz({"index.html": "x"}), ctype="text/plain")
        self.assertError(r, 415)
        r = self.upload(name, "1.0.0", b"")
        self.assertError(r, 400)
        self.assertPage(self.depot.get(self.site(name, "1.0.0")), "mp")

    def test_reupload_replaces(self):
        name = self.fresh()
        self.uploaded(name, "1.0.0", {"index.html": "old", "gone.html": "gone"})
        old = self.depot.get(self.site(name, "1.0.0"))
        self.assertPage(old, "old")
        self.uploaded(name, "1.0.0", {"index.html": "new", "added.css": "a"})
        r = self.depot.get(self.site(name, "1.0.0"))
        self.assertPage(r, "new")
        self.assertNotEqual(r.headers["ETag"], old.headers["ETag"])
        # an old ETag no longer matches
        r = self.depot.get(self.site(name, "1.0.0"), headers={"If-None-Match": old.headers["ETag"]})
        self.assertPage(r, "new")
        self.assertError(self.depot.get(self.site(name, "1.0.0", "gone.html")), 404)
        self.assertPage(self.depot.get(self.site(name, "1.0.0", "added.css")), "a")

    def test_delete(self):
        name = self.fresh(("1.0.0", "1.1.0"))
        self.uploaded(name, "1.0.0", {"index.html": "del"})
        self.uploaded(name, "1.1.0", {"index.html": "keep"})
        self.assertError(self.depot.delete(self.docs_api(name, "1.0.0"), auth=self.other.bearer),
                         403)
        self.assertError(self.depot.delete(self.docs_api(name, "1.0.0")), 401)
        self.assertPage(self.depot.get(self.site(name, "1.0.0")), "del")
        r = self.depot.delete(self.docs_api(name, "1.0.0"), auth=self.owner.bearer)
        self.assertStatus(r, 204)
        self.assertError(self.depot.get(self.site(name, "1.0.0")), 404)
        self.assertError(self.depot.get(self.site(name, "1.0.0", "index.html")), 404)
        self.assertPage(self.depot.get(self.site(name, "1.1.0")), "keep")
        self.assertError(self.depot.delete(self.docs_api(name, "1.0.0"), auth=self.owner.bearer),
                         404)
        self.assertStatus(self.depot.delete(self.docs_api(name, "1.1.0"),
                                            auth=self.owner.bearer), 204)
        self.assertError(self.depot.get("/docs/native/%s/" % name), 404)

    def test_who_may_upload(self):
        name = self.fresh()
        tgz = targz({"index.html": "x"})
        self.assertError(self.upload(name, "1.0.0", tgz, auth=""), 401)
        self.assertError(self.upload(name, "1.0.0", tgz, auth=self.other.bearer), 403)
        # a token of the owner without publish scope for this package
        read_tok, _ = self.make_token(self.owner.bearer, ["read"])
        self.assertError(self.upload(name, "1.0.0", tgz, auth="Bearer " + read_tok), 403)
        other_tok, _ = self.make_token(self.owner.bearer, ["publish:native/someotherpkg"])
        self.assertError(self.upload(name, "1.0.0", tgz, auth="Bearer " + other_tok), 403)
        self.assertError(self.depot.get(self.site(name, "1.0.0")), 404)
        # a token scoped to it may; an owner added later may
        tok, _ = self.make_token(self.owner.bearer, ["publish:native/%s" % name])
        self.assertJSON(self.upload(name, "1.0.0", tgz, auth="Bearer " + tok), 201)
        r = self.depot.request("PUT", "%s/%s/owners/%s" % (PACKAGES, name, self.other.username),
                               auth=self.owner.bearer)
        self.assertStatus(r, 200, 201, 204)
        self.assertJSON(self.upload(name, "1.0.0", targz({"index.html": "by other"}),
                                    auth=self.other.bearer), 201)
        self.assertPage(self.depot.get(self.site(name, "1.0.0")), "by other")

    def test_version_and_package_must_exist(self):
        name = self.fresh()
        tgz = targz({"index.html": "x"})
        self.assertError(self.upload(name, "9.9.9", tgz), 404)
        self.assertError(self.upload(self.uniq("nopkg"), "1.0.0", tgz), 404)
        self.assertError(self.depot.get(self.site(name, "9.9.9")), 404)


class Hostile(DocsCase):
    """Archives that must be refused with nothing recorded: no site, no new blob."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.name = cls.uniq("hostile")
        r, _ = cls.publish(cls, cls.owner.bearer, cls.name, "1.0.0")
        assert r.status == 201, r.describe()

    def refused(self, tgz, status, *words):
        before = self.blob_files()
        r = self.upload(self.name, "1.0.0", tgz)
        err = self.assertError(r, status)
        for w in words:
            self.assertIn(w, err["message"], r.describe())
        self.assertError(self.depot.get(self.site(self.name, "1.0.0")), 404)
        self.assertError(self.depot.get(self.site(self.name, "1.0.0", "index.html")), 404)
        self.assertEqual(self.blob_files(), before, "a refused archive left blobs behind")
        # the upload's temp file goes when the request is done (just after the response)
        tmp = self.depot.blob_tmp_dir
        left = self.wait_until(lambda: not os.path.isdir(tmp) or not os.listdir(tmp), 5)
        self.assertTrue(left, "a refused archive left temp files: %r"
                        % (os.listdir(tmp) if os.path.isdir(tmp) else []))
        return err

    def test_paths(self):
        self.refused(targz({"index.html": "x", "../x.html": "y"}), 422, "../x.html", "escapes")
        self.refused(targz({"index.html": "x", "a/../../x.html": "y"}), 422, "escapes")
        self.refused(targz({"index.html": "x", "/abs/x.html": "y"}), 422, "/abs/x.html",
                     "absolute")
        self.refused(targz([("index.html", "x"), ("index.html", "y")]), 422, "twice")

    def test_links_and_special_files(self):
        self.refused(special_tar("symlink", "evil", "/etc"), 422, "evil", "symbolic link")
        self.refused(special_tar("symlink", "rel", "index.html"), 422, "rel", "symbolic link")
        self.refused(special_tar("hardlink", "hard", "index.html"), 422, "hard", "hard link")
        self.refused(special_tar("fifo", "pipe"), 422, "pipe", "special file")
        self.refused(special_tar("chardev", "dev"), 422, "dev", "special file")

    def test_bomb(self):
        self.refused(gzip_bomb(60 << 20, "index.html"), 422, "ratio")

    def test_too_many_entries(self):
        # real-looking small files, so that the ratio stays far under its cap
        files = [("f%05d.html" % i, os.urandom(100).hex()) for i in range(10001)]
        self.refused(targz(files), 422, "10000")

    def test_file_too_large(self):
        self.refused(big_tar(1, (20 << 20) + 1)[0], 422, "larger than")

    def test_too_many_bytes(self):
        self.refused(big_tar(11, 19 << 20)[0], 422, "expands beyond")

    def test_not_an_archive(self):
        self.refused(b"<html>not a tarball</html>", 400)
        self.refused(gzip.compress(b"just gzip, not tar" * 100), 400)
        self.refused(targz({"index.html": "x"}, gz=False), 400)
        self.refused(targz({"index.html": "x"})[:60], 400)
        self.refused(tar_with_dirs([("emptydir", None), ("emptydir/sub", None)]), 422,
                     "no files")

    def test_good_after_bad(self):
        self.refused(special_tar("symlink"), 422)
        self.uploaded(self.name, "1.0.0", {"index.html": "fine"})
        self.assertPage(self.depot.get(self.site(self.name, "1.0.0")), "fine")
        # a bad re-upload leaves the good site as it was
        r = self.upload(self.name, "1.0.0", special_tar("hardlink"))
        self.assertError(r, 422)
        self.assertPage(self.depot.get(self.site(self.name, "1.0.0")), "fine")
        self.assertStatus(self.depot.delete(self.docs_api(self.name, "1.0.0"),
                                            auth=self.owner.bearer), 204)


class PrivateDocs(DocsCase):
    depot_args = ("--private",)

    def test_private_needs_a_credential(self):
        name = self.uniq("priv")
        self.published(self.owner.bearer, name, "1.0.0")
        self.uploaded(name, "1.0.0", {"index.html": "secret"})
        for path in ("/docs/native/%s/1.0.0/" % name, "/docs/native/%s/1.0.0/index.html" % name,
                     "/docs/native/%s" % name, "/docs/native/%s/1.0.0" % name):
            with self.subTest(path=path):
                self.assertError(self.depot.get(path), 401)
        r = self.depot.get("/docs/native/%s/1.0.0/" % name, auth=self.owner.bearer)
        self.assertPage(r, "secret")
        self.assertTrue(r.headers["Cache-Control"].startswith("private"), r.describe())
        tok, _ = self.make_token(self.owner.bearer, ["read"])
        self.assertPage(self.depot.get("/docs/native/%s/1.0.0/" % name, auth="Bearer " + tok),
                        "secret")


class DocsURL(DocsCase):
    depot_args = ("--docs-url", "https://docs.example.test/")

    def test_url_points_at_the_docs_origin(self):
        name = self.uniq("origin")
        self.published(self.owner.bearer, name, "1.0.0")
        doc = self.uploaded(name, "1.0.0", {"index.html": "there"})
        self.assertEqual(doc["url"], "https://docs.example.test/native/%s/1.0.0/" % name)
        # /docs still serves: it is what that origin proxies to
        self.assertPage(self.depot.get("/docs/native/%s/1.0.0/" % name), "there")
