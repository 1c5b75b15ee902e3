"""Reads: the package document (fields, version order, ETag, gzip), version documents by both
URL forms, downloads by both URL forms (bytes, ETag, checksum, 304, HEAD), 404s, download
counting in the stats, and user profiles."""

import gzip
import json
import time

from apitest import RFC3339_UTC
from native.nativetest import PACKAGES, NativeTestCase, sha256_hex


class Reads(NativeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="rd")
        cls.name = cls.uniq("reads")
        cls.readme = "# %s\n\n" % cls.name + "A long readme line for the gzip check.\n" * 150
        cls.tarballs = {}
        d = cls.depot
        fields = dict(keywords=["string", "pad"], categories=["text-processing"],
                      tags=["stable"], homepage="https://example.com",
                      repository="https://git.example.com/x",
                      documentation="https://docs.example.com/x",
                      authors=["Ann <ann@example.com>"], license="MIT OR Apache-2.0",
                      description="Pads strings")
        for v in ("1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1"):
            tb = cls.tarball_for(cls.name, v, readme=cls.readme)
            m = dict(fields, name=cls.name, version=v, dependencies={"dep-a": "^1.0"}
                     if v == "1.10.0" else {})
            r = d.publish(tb, metadata=m, auth=cls.owner.bearer)
            assert r.status == 201, r.describe()
            cls.tarballs[v] = tb
        r = d.request("PUT", "%s/%s/versions/1.2.0/yank" % (PACKAGES, cls.name),
                      auth=cls.owner.bearer)
        assert r.status == 200, r.describe()

    def test_package_document(self):
        doc = self.package(self.name)
        for k in ("name", "description", "latest", "license", "keywords", "categories",
                  "downloads", "updated_at", "homepage", "repository", "documentation",
                  "authors", "tags", "readme", "owners", "require_signatures", "versions"):
            self.assertIn(k, doc, "the package document lacks %r" % k)
        self.assertEqual(doc["name"], self.name)
        self.assertEqual(doc["description"], "Pads strings")
        self.assertEqual(doc["latest"], "1.10.0")
        self.assertEqual(doc["license"], "MIT OR Apache-2.0")
        self.assertEqual(doc["keywords"], ["string", "pad"])
        self.assertEqual(doc["categories"], ["text-processing"])
        self.assertEqual(doc["tags"], ["stable"])
        self.assertEqual(doc["authors"], ["Ann <ann@example.com>"])
        self.assertEqual(doc["homepage"], "https://example.com")
        self.assertEqual(doc["repository"], "https://git.example.com/x")
        self.assertEqual(doc["documentation"], "https://docs.example.com/x")
        self.assertEqual(doc["readme"], self.readme)
        self.assertIs(doc["require_signatures"], False)
        self.assertIsInstance(doc["downloads"], int)
        self.assertRegex(doc["updated_at"], RFC3339_UTC)
        self.assertEqual([o["username"] for o in doc["owners"]], [self.owner.username])
        vs = doc["versions"]
        self.assertEqual([v["version"] for v in vs], ["2.0.0-rc.1", "1.10.0", "1.2.0", "1.0.0"],
                         "versions should be newest first by SemVer")
        self.assertEqual([v["yanked"] for v in vs], [False, False, True, False])
        for v in vs:
            self.assertEqual(v["sha256"], sha256_hex(self.tarballs[v["version"]]))
            self.assertEqual(v["size"], len(self.tarballs[v["version"]]))
            self.assertIsInstance(v["dependencies"], dict)
            self.assertEqual(self.path_of(v["download_url"]), "%s/%s/versions/%s/download"
                             % (PACKAGES, self.name, v["version"]))
        self.assertEqual(vs[1]["dependencies"], {"dep-a": "^1.0"})

    def test_package_etag_and_304(self):
        path = "%s/%s" % (PACKAGES, self.name)
        r = self.depot.get(path)
        self.assertStatus(r, 200)
        etag = r.headers.get("ETag")
        self.assertTrue(etag, "no ETag on the package document")
        r2 = self.depot.get(path, headers={"If-None-Match": etag})
        self.assertStatus(r2, 304)
        self.assertEqual(r2.body, b"")
        r3 = self.depot.get(path, headers={"If-None-Match": '"something-else"'})
        self.assertStatus(r3, 200)
        self.assertEqual(r3.body, r.body)

    def test_etag_changes_when_the_package_does(self):
        name = self.pkgname()
        self.published(self.owner.bearer, name, "1.0.0")
        path = "%s/%s" % (PACKAGES, name)
        etag = self.depot.get(path).headers.get("ETag")
        self.published(self.owner.bearer, name, "1.1.0")
        r = self.depot.get(path, headers={"If-None-Match": etag})
        self.assertStatus(r, 200)
        self.assertNotEqual(r.headers.get("ETag"), etag)
        self.assertEqual(r.json()["latest"], "1.1.0")

    def test_package_gzip(self):
        path = "%s/%s" % (PACKAGES, self.name)
        plain = self.depot.get(path)
        self.assertStatus(plain, 200)
        self.assertNotEqual((plain.headers.get("Content-Encoding") or "").lower(), "gzip")
        z = self.depot.get(path, headers={"Accept-Encoding": "gzip"})
        self.assertStatus(z, 200)
        self.assertEqual((z.headers.get("Content-Encoding") or "").lower(), "gzip", z.describe())
        self.assertLess(len(z.body), len(plain.body))
        self.assertEqual(json.loads(gzip.decompress(z.body)), plain.json())
        self.assertIn("accept-encoding", (z.headers.get("Vary") or "").lower())
        self.assertEqual(z.headers.get("ETag"), plain.headers.get("ETag"))

    def test_version_document_both_url_forms(self):
        docs = []
        for path in ("%s/%s/versions/1.10.0" % (PACKAGES, self.name),
                     "%s/%s/1.10.0" % (PACKAGES, self.name),
                     "/api/packages/%s/1.10.0" % self.name):
            docs.append(self.assertJSON(self.depot.get(path)))
        self.assertEqual(docs[0], docs[1])
        self.assertEqual(docs[0], docs[2])
        d = docs[0]
        for k in ("dependencies", "dev_dependencies", "checksum", "sha256", "size",
                  "signature", "publisher", "published_at", "yanked", "downloads",
                  "download_url"):
            self.assertIn(k, d)
        self.assertEqual(d["dependencies"], {"dep-a": "^1.0"})
        self.assertEqual(d["checksum"], "sha256:" + sha256_hex(self.tarballs["1.10.0"]))
        self.assertEqual(d["publisher"], self.owner.username)
        y = self.assertJSON(self.depot.get("%s/%s/1.2.0" % (PACKAGES, self.name)))
        self.assertIs(y["yanked"], True)

    def test_404s(self):
        nope = self.pkgname("nope")
        for path in ("%s/%s" % (PACKAGES, nope),
                     "%s/%s/versions/1.0.0" % (PACKAGES, nope),
                     "%s/%s/1.0.0" % (PACKAGES, nope),
                     "%s/%s/versions/1.0.0/download" % (PACKAGES, nope),
                     "%s/%s/1.0.0/download" % (PACKAGES, nope),
                     "%s/%s/owners" % (PACKAGES, nope),
                     "%s/%s/stats" % (PACKAGES, nope),
                     "%s/%s/versions/9.9.9" % (PACKAGES, self.name),
                     "%s/%s/9.9.9" % (PACKAGES, self.name),
                     "%s/%s/versions/9.9.9/download" % (PACKAGES, self.name),
                     "%s/%s/9.9.9/download" % (PACKAGES, self.name),
                     "%s/%s/versions/not-a-version" % (PACKAGES, self.name)):
            with self.subTest(path=path):
                self.assertError(self.depot.get(path), (400, 404))
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, nope)), 404)
        self.assertError(self.depot.get("%s/%s/versions/9.9.9" % (PACKAGES, self.name)), 404)
        # a write to a missing package is a 404 for its owner-to-be too
        self.assertError(self.depot.request(
            "PUT", "%s/%s/versions/1.0.0/yank" % (PACKAGES, nope), auth=self.owner.bearer), 404)
        self.assertError(self.depot.request(
            "PUT", "%s/%s/versions/9.9.9/yank" % (PACKAGES, self.name),
            auth=self.owner.bearer), 404)

    def test_download_both_url_forms(self):
        tb = self.tarballs["1.0.0"]
        sha = sha256_hex(tb)
        for path in ("%s/%s/versions/1.0.0/download" % (PACKAGES, self.name),
                     "%s/%s/1.0.0/download" % (PACKAGES, self.name),
                     "/api/packages/%s/versions/1.0.0/download" % self.name):
            with self.subTest(path=path):
                r = self.depot.get(path)
                self.assertStatus(r, 200)
                self.assertEqual(r.body, tb)
                self.assertEqual(r.headers.get("X-Checksum-SHA256"), sha)
                etag = r.headers.get("ETag")
                self.assertTrue(etag)
                self.assertIn(sha, etag)
                self.assertIsNone(r.headers.get("X-Signature"))
                r304 = self.depot.get(path, headers={"If-None-Match": etag})
                self.assertStatus(r304, 304)
                self.assertEqual(r304.body, b"")
                h = self.depot.request("HEAD", path)
                self.assertStatus(h, 200)
                self.assertEqual(h.body, b"")
                self.assertEqual(h.headers.get("X-Checksum-SHA256"), sha)
                if h.headers.get("Content-Length") is not None:
                    self.assertEqual(int(h.headers.get("Content-Length")), len(tb))

    def test_user_profile(self):
        prof = self.assertJSON(self.depot.get("/api/v1/users/" + self.owner.username))
        self.assertEqual(prof["username"], self.owner.username)
        self.assertRegex(prof["created_at"], RFC3339_UTC)
        names = [p["name"] for p in prof["packages"]]
        self.assertIn(self.name, names)
        mine = [p for p in prof["packages"] if p["name"] == self.name][0]
        for k in ("name", "description", "latest", "license", "keywords", "categories",
                  "downloads", "updated_at"):
            self.assertIn(k, mine)
        self.assertEqual(mine["latest"], "1.10.0")
        empty = self.new_user(prefix="nopkg")
        self.assertEqual(self.assertJSON(
            self.depot.get("/api/v1/users/" + empty.username))["packages"], [])
        self.assertError(self.depot.get("/api/v1/users/" + self.uniq("ghost")), 404)
        self.assertError(self.depot.get("/api/users/" + self.uniq("ghost")), 404)


class DownloadCounting(NativeTestCase):
    """Counts are flushed every 5 s: these tests wait for a flush (in a class of their own, so
    they run beside the others)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="dc")

    def test_download_counts_show_in_stats(self):
        name = self.pkgname("cnt")
        self.published(self.owner.bearer, name, "1.0.0")
        self.published(self.owner.bearer, name, "1.1.0")
        before = self.assertJSON(self.depot.get("/api/v1/stats"))
        for k in ("packages", "versions", "users", "downloads", "most_downloaded", "newest",
                  "recently_updated"):
            self.assertIn(k, before)
        self.assertGreaterEqual(before["packages"], 1)
        self.assertGreaterEqual(before["versions"], 2)
        self.assertGreaterEqual(before["users"], 1)
        self.assertIn(name, [p["name"] for p in before["newest"]])
        first = "%s/%s/versions/1.0.0/download" % (PACKAGES, name)
        etag = self.depot.get(first).headers.get("ETag")
        # a 304 sends no bytes: not a download
        self.assertStatus(self.depot.get(first, headers={"If-None-Match": etag}), 304)
        for path in ("%s/%s/1.0.0/download" % (PACKAGES, name),
                     "%s/%s/versions/1.1.0/download" % (PACKAGES, name)):
            self.assertStatus(self.depot.get(path), 200)
        t0 = time.monotonic()

        def counted():
            s = self.assertJSON(self.depot.get("%s/%s/stats" % (PACKAGES, name)))
            return s if s["downloads"] >= 3 else None

        s = self.wait_until(counted, timeout=8)
        self.assertTrue(s, "downloads did not show in the package stats within 8 s")
        self.assertLess(time.monotonic() - t0, 8)
        self.assertEqual(s["name"], name)
        self.assertEqual(s["downloads"], 3)
        self.assertEqual(s["downloads_90_days"], 3)
        self.assertEqual(sum(s["daily"].values()), 3)
        self.assertEqual(sum(s["daily_by_version"]["1.0.0"].values()), 2)
        self.assertEqual(sum(s["daily_by_version"]["1.1.0"].values()), 1)
        after = self.assertJSON(self.depot.get("/api/v1/stats"))
        self.assertGreaterEqual(after["downloads"] - before["downloads"], 3)
        self.assertIn(name, [p["name"] for p in after["most_downloaded"]])
        v = self.assertJSON(self.depot.get("%s/%s/versions/1.0.0" % (PACKAGES, name)))
        self.assertEqual(v["downloads"], 2)

    def test_head_is_not_a_download(self):
        # a HEAD sends no bytes, like a 304: it must not count as a download
        name = self.pkgname("head")
        self.published(self.owner.bearer, name, "1.0.0")
        path = "%s/%s/versions/1.0.0/download" % (PACKAGES, name)
        self.assertStatus(self.depot.request("HEAD", path), 200)
        self.assertStatus(self.depot.get(path), 200)

        def counted():
            s = self.assertJSON(self.depot.get("%s/%s/stats" % (PACKAGES, name)))
            return s if s["downloads"] >= 1 else None

        s = self.wait_until(counted, timeout=8)
        self.assertTrue(s, "the download did not show in the stats within 8 s")
        self.assertEqual(s["downloads"], 1, "a HEAD was counted as a download: %s" % s)
