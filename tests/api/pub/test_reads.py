"""pub reads: the listing's types and headers (charset, ETag and 304, gzip only when asked, the
client's badly-formatted-response checks), the archive (exact bytes, octet-stream, never
Content-Encoding, ETag, 304, HEAD, '+' as %2B, counted), the deprecated version and archive
endpoints, the advisories document the listing advertises, case-sensitive names, routing of a
package called `versions`, and a private server's reads (a pub challenge without a token, and
the token sent along to the archive URL)."""

import gzip
import hashlib
import time

from pub.dartpub import DartPub, PackageNotFound, PubError, package
from pub.pubtest import PubTestCase

V2 = {"Accept": "application/vnd.pub.v2+json"}


class Reads(PubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(cls.depot)
        r = cls.depot.create_token(cls.owner.bearer, "pub", ["read", "publish:pub"])
        cls.token = r.json()["token"]
        cls.name = cls.uniq("reads_")
        c = DartPub(cls.depot, cls.depot.url + "/pub", cls.token)
        cls.archives = {}
        for v in ("1.0.0", "1.1.0+build.5", "2.0.0-beta.1"):
            data = package(cls.name, v, files={"README.md": "# readme %s\n" % v})
            res = c.publish(data, cls.name)
            assert res.exit == 0, res
            cls.archives[v] = data
        res = c.publish(package("versions", "1.0.0"), "versions")
        assert res.exit == 0, res

    def test_listing_shape(self):
        r = self.pub("GET", "/api/packages/" + self.name, headers=V2)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["Content-Type"], "application/vnd.pub.v2+json; charset=utf-8")
        self.assertIsNone(r.headers.get("Content-Encoding"))
        doc = r.json()
        self.assertEqual(list(doc), ["name", "isDiscontinued", "advisoriesUpdated", "latest",
                                     "versions"])
        self.assertEqual(doc["latest"]["version"], "1.1.0+build.5")
        self.assertEqual(doc["latest"], doc["versions"][1])
        for v in doc["versions"]:
            self.assertEqual(set(v), {"version", "retracted", "archive_url", "archive_sha256",
                                      "pubspec", "published"})
            self.assertRegex(v["archive_sha256"], r"^[0-9a-f]{64}$")
            self.assertEqual(v["archive_sha256"],
                             hashlib.sha256(self.archives[v["version"]]).hexdigest())
            self.assertTrue(v["archive_url"].startswith(self.depot.url + "/pub/packages/%s/versions/"
                                                        % self.name))
        self.assertTrue(doc["versions"][1]["archive_url"].endswith("/1.1.0%2Bbuild.5.tar.gz"))
        self.client(self.token).listing(self.name)  # the client's own checks

    def test_listing_cache_headers(self):
        r = self.pub("GET", "/api/packages/" + self.name, headers=V2)
        etag = r.headers["ETag"]
        r2 = self.pub("GET", "/api/packages/" + self.name, headers=dict(V2, **{"If-None-Match": etag}))
        self.assertStatus(r2, 304)
        g = self.pub("GET", "/api/packages/" + self.name,
                     headers=dict(V2, **{"Accept-Encoding": "gzip"}))
        self.assertEqual(g.headers.get("Content-Encoding"), "gzip")
        self.assertEqual(gzip.decompress(g.body), r.body)
        self.assertIn("Accept-Encoding", g.headers.get("Vary", ""))

    def test_archive(self):
        for v, data in self.archives.items():
            esc = v.replace("+", "%2B")
            for ae in (None, "gzip"):
                h = {"User-Agent": "Dart pub 3.5.0"}
                if ae:
                    h["Accept-Encoding"] = ae
                r = self.pub("GET", "/packages/%s/versions/%s.tar.gz" % (self.name, esc), headers=h)
                self.assertStatus(r, 200)
                self.assertEqual(r.body, data)
                self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
                self.assertIsNone(r.headers.get("Content-Encoding"))
                self.assertEqual(r.headers["Content-Length"], str(len(data)))
                self.assertEqual(r.headers["ETag"], '"%s"' % hashlib.sha256(data).hexdigest())
            r = self.pub("GET", "/packages/%s/versions/%s.tar.gz" % (self.name, esc),
                         headers={"If-None-Match": '"%s"' % hashlib.sha256(data).hexdigest()})
            self.assertStatus(r, 304)
            r = self.pub("HEAD", "/packages/%s/versions/%s.tar.gz" % (self.name, esc))
            self.assertStatus(r, 200)
        c = self.client(self.token)
        self.assertEqual(c.download(self.name, "1.1.0+build.5"), self.archives["1.1.0+build.5"])
        self.assertPubError(self.pub("GET", "/packages/%s/versions/9.9.9.tar.gz" % self.name), 404)
        self.assertPubError(self.pub("GET", "/packages/%s/versions/1.0.0.zip" % self.name), 404)

    def test_downloads_counted(self):
        def total():
            return self.depot.request("GET", "/api/v1/stats").json()["downloads"]
        before = total()
        for _ in range(3):
            self.assertStatus(self.pub("GET", "/packages/%s/versions/1.0.0.tar.gz" % self.name), 200)
        deadline = time.monotonic() + 10
        while total() < before + 3 and time.monotonic() < deadline:
            time.sleep(0.25)
        self.assertGreaterEqual(total(), before + 3)

    def test_deprecated_version_endpoint(self):
        r = self.pub("GET", "/api/packages/%s/versions/1.1.0%%2Bbuild.5" % self.name, headers=V2)
        self.assertStatus(r, 200)
        v = r.json()
        self.assertEqual(v["version"], "1.1.0+build.5")
        self.assertEqual(v["pubspec"]["version"], "1.1.0+build.5")
        self.assertTrue(v["archive_url"].startswith("http"))
        self.assertPubError(self.pub("GET", "/api/packages/%s/versions/3.0.0" % self.name), 404)

    def test_advisories(self):
        doc = self.pub("GET", "/api/packages/" + self.name).json()
        r = self.pub("GET", "/api/packages/%s/advisories" % self.name, headers=V2)
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"advisories": [], "advisoriesUpdated": doc["advisoriesUpdated"]})
        self.assertTime(doc["advisoriesUpdated"])

    def test_unknown_and_case(self):
        c = self.client()
        with self.assertRaises(PackageNotFound) as cm:
            c.listing(self.uniq("ghost_"))
        self.assertIn("could not find package", str(cm.exception))
        self.assertPubError(self.pub("GET", "/api/packages/" + self.name.upper()), 404,
                            "did you mean '%s'" % self.name)

    def test_package_named_versions(self):
        doc = self.client().listing("versions")
        self.assertEqual(doc["latest"]["version"], "1.0.0")
        self.assertStatus(self.pub("GET", "/api/packages/versions/advisories"), 200)

    def test_methods(self):
        r = self.pub("DELETE", "/api/packages/" + self.name)
        self.assertPubError(r, 405)
        self.assertIn("GET", r.headers["Allow"])

    def test_search(self):
        r = self.pub("GET", "/api/search?q=" + self.name)
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"packages": [{"package": self.name}]})
        # paging: ten a page, `next` only while there is more
        for i in range(11):
            res = self.client(self.token).publish(package("srch_%s_%d" % (self.name, i)))
            self.assertEqual(res.exit, 0, res)
        p1 = self.pub("GET", "/api/search?q=srch_" + self.name).json()
        self.assertEqual(len(p1["packages"]), 10)
        self.assertTrue(p1["next"].startswith(self.depot.url + "/pub/api/search?q="), p1)
        p2 = self.depot.request("GET", p1["next"][len(self.depot.url):]).json()
        self.assertEqual(len(p2["packages"]), 1)
        self.assertNotIn("next", p2)
        names = {p["package"] for p in p1["packages"] + p2["packages"]}
        self.assertEqual(len(names), 11)
        self.assertPubError(self.pub("GET", "/api/search?q=x&page=0"), 400, "page")


class Private(PubTestCase):
    depot_args = ("--private",)

    def test_private_reads(self):
        _, tok = self.pub_user()
        name = self.uniq("secret_")
        self.publish_ok(tok, name)
        # no token: a 401 with pub's challenge, which the client reports as an auth failure
        anon = self.client()
        with self.assertRaises(PubError) as cm:
            anon.listing(name)
        self.assertEqual(cm.exception.exit, 65)
        self.assertIn("private", cm.exception.server_message)
        r = self.pub("GET", "/packages/%s/versions/1.0.0.tar.gz" % name)
        self.assertPubError(r, 401)
        # with a read token: listing and archive (the token rides along to the archive URL)
        _, reader = self.pub_user(scopes=("read",))
        c = self.client(reader)
        self.assertEqual(c.listing(name)["latest"]["version"], "1.0.0")
        c.download(name, "1.0.0")
        r = self.pub("GET", "/packages/%s/versions/1.0.0.tar.gz" % name, auth="Bearer " + reader)
        self.assertIn("private", r.headers["Cache-Control"])
