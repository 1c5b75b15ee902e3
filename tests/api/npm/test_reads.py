"""npm reads: the full packument (for Accept: application/json and anything else) and the
abbreviated one (for npm's corgi Accept), their fields, ETag and 304, gzip, Vary, single
version and dist-tag documents, tarballs (bytes, ETag, 304, HEAD, the scoped URL forms,
counting), 404s in npm's shape, and a private server's 401 for anonymous reads."""

import gzip
import time

from npm.npmtest import CORGI, NpmTestCase, esc, integrity, npm_tarball


class Reads(NpmTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="rd")
        cls.name = cls.uniq("reads")
        cls.scoped = "@%s/util" % cls.uniq("sc")
        for name in (cls.name, cls.scoped):
            for v, tag in (("1.0.0", "latest"), ("1.1.0", "latest"), ("2.0.0-beta.1", "beta")):
                doc = None
                from npm.npmtest import publish_doc
                doc = publish_doc(name, v, tag=tag, readme="# readme of %s\n" % name + "x" * 3000,
                                  pkg={"dependencies": {"dep-a": "^1.0.0"},
                                       "optionalDependencies": {"opt-b": "~2.0.0"},
                                       "peerDependencies": {"react": ">=17"},
                                       "scripts": {"postinstall": "node x.js", "test": "tap"},
                                       "bin": {"tool": "cli.js"},
                                       "engines": {"node": ">=18"}})
                # npm lists optional dependencies under dependencies too
                doc["versions"][v]["dependencies"]["opt-b"] = "~2.0.0"
                r = cls.depot.request("PUT", "/npm/" + esc(name), json=doc, auth=cls.owner.bearer)
                assert r.status == 201, r.describe()

    def test_full_document(self):
        r = self.packument(self.name)
        self.assertStatus(r, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
        p = r.json()
        self.assertEqual(p["_id"], self.name)
        self.assertRegex(p["_rev"], r"^\d+-[0-9a-f]{16}$")
        self.assertEqual(p["dist-tags"], {"latest": "1.1.0", "beta": "2.0.0-beta.1"})
        self.assertEqual(list(p["versions"]), ["1.0.0", "1.1.0", "2.0.0-beta.1"])
        v = p["versions"]["1.1.0"]
        self.assertEqual(v["name"], self.name)
        self.assertEqual(v["version"], "1.1.0")
        self.assertEqual(v["scripts"]["test"], "tap")
        self.assertEqual(v["dependencies"], {"dep-a": "^1.0.0", "opt-b": "~2.0.0"})
        tb = npm_tarball(self.name, "1.1.0", pkg={"dependencies": {"dep-a": "^1.0.0"},
                                                  "optionalDependencies": {"opt-b": "~2.0.0"},
                                                  "peerDependencies": {"react": ">=17"},
                                                  "scripts": {"postinstall": "node x.js", "test": "tap"},
                                                  "bin": {"tool": "cli.js"},
                                                  "engines": {"node": ">=18"}})
        self.assertEqual(v["dist"]["integrity"], integrity(tb))
        self.assertEqual(v["dist"]["tarball"],
                         "%s/npm/%s/-/%s-1.1.0.tgz" % (self.depot.url, self.name, self.name))
        for k in ("created", "modified", "1.0.0", "1.1.0", "2.0.0-beta.1"):
            self.assertRegex(p["time"][k], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
        self.assertTrue(p["readme"].startswith("# readme of"))
        # a no-reply address, never the real one (emails are private by default)
        host = self.depot.url.split("://", 1)[1].split(":")[0]
        self.assertEqual(p["maintainers"], [{"name": self.owner.username,
                                             "email": "%s@users.noreply.%s" % (self.owner.username, host)}])
        self.assertEqual(p["description"], "the %s package" % self.name)
        # any Accept other than the corgi one gets the full document
        for accept in (None, "*/*", "application/json"):
            h = {"Accept": accept} if accept else {}
            self.assertEqual(self.npm("GET", "/" + self.name, headers=h).json(), p)
        # ?write=true, as npm sends before a change, is the same document
        self.assertEqual(self.npm("GET", "/%s?write=true" % self.name).json(), p)

    def test_abbreviated_document(self):
        r = self.packument(self.name, corgi=True)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["Content-Type"], "application/vnd.npm.install-v1+json")
        p = r.json()
        self.assertEqual(set(p), {"name", "modified", "dist-tags", "versions"})
        v = p["versions"]["1.1.0"]
        self.assertEqual(v["dependencies"], {"dep-a": "^1.0.0", "opt-b": "~2.0.0"})
        self.assertEqual(v["optionalDependencies"], {"opt-b": "~2.0.0"})
        self.assertEqual(v["peerDependencies"], {"react": ">=17"})
        self.assertEqual(v["bin"], {"tool": "cli.js"})
        self.assertEqual(v["engines"], {"node": ">=18"})
        self.assertTrue(v["hasInstallScript"])
        self.assertIn("integrity", v["dist"])
        self.assertNotIn("scripts", v)
        self.assertNotIn("readme", p)
        full = self.packument(self.name)
        self.assertNotEqual(r.headers["ETag"], full.headers["ETag"])
        self.assertIn("Accept", " ".join(r.headers.get_all("Vary")))

    def test_etag_and_gzip(self):
        for corgi in (False, True):
            r = self.packument(self.name, corgi=corgi)
            etag = r.headers["ETag"]
            h = {"If-None-Match": etag, "Accept": CORGI if corgi else "application/json"}
            r2 = self.npm("GET", "/" + self.name, headers=h)
            self.assertStatus(r2, 304)
            self.assertEqual(r2.headers["ETag"], etag)
            h = {"Accept-Encoding": "gzip,deflate", "Accept": CORGI if corgi else "application/json"}
            z = self.npm("GET", "/" + self.name, headers=h)
            self.assertEqual(z.headers.get("Content-Encoding"), "gzip")
            self.assertEqual(gzip.decompress(z.body), r.body)
            self.assertIn("no-cache", r.headers["Cache-Control"])

    def test_a_write_changes_the_etag(self):
        name = self.uniq("etag")
        from npm.npmtest import publish_doc
        self.assertStatus(self.npm("PUT", "/" + name, auth=self.owner.bearer,
                                   json_body=publish_doc(name, "1.0.0")), 201)
        e1 = self.packument(name).headers["ETag"]
        self.assertStatus(self.npm("PUT", "/" + name, auth=self.owner.bearer,
                                   json_body=publish_doc(name, "1.0.1")), 201)
        r = self.npm("GET", "/" + name, headers={"If-None-Match": e1})
        self.assertStatus(r, 200)
        self.assertIn("1.0.1", r.json()["versions"])

    def test_scoped_forms(self):
        scope, base = self.scoped.split("/")
        a = self.npm("GET", "/%s%%2f%s" % (scope, base))
        b = self.npm("GET", "/%s/%s" % (scope, base))
        self.assertStatus(a, 200)
        self.assertEqual(a.body, b.body)
        tb = a.json()["versions"]["1.0.0"]["dist"]["tarball"]
        path = tb[len(self.depot.url):]
        self.assertEqual(path, "/npm/%s/%s/-/%s-1.0.0.tgz" % (scope, base, base))
        t1 = self.depot.get(path)
        t2 = self.npm("GET", "/%s%%2f%s/-/%s-1.0.0.tgz" % (scope, base, base))
        self.assertStatus(t1, 200)
        self.assertEqual(t1.body, t2.body)
        # the form with the scope in the file name is not a tarball URL
        self.assertNpmError(self.npm("GET", "/%s/%s/-/%s/%s-1.0.0.tgz" % (scope, base, scope, base)),
                            404)

    def test_version_documents(self):
        v = self.npm("GET", "/%s/1.0.0" % self.name)
        self.assertStatus(v, 200)
        self.assertEqual(v.json()["version"], "1.0.0")
        latest = self.npm("GET", "/%s/latest" % self.name).json()
        self.assertEqual(latest["version"], "1.1.0")
        beta = self.npm("GET", "/%s/beta" % self.name).json()
        self.assertEqual(beta["version"], "2.0.0-beta.1")
        scope, base = self.scoped.split("/")
        self.assertEqual(self.npm("GET", "/%s/%s/1.1.0" % (scope, base)).json()["version"], "1.1.0")
        self.assertEqual(self.npm("GET", "/%s%%2f%s/latest" % (scope, base)).json()["version"], "1.1.0")
        self.assertNpmError(self.npm("GET", "/%s/9.9.9" % self.name), 404)

    def test_tarballs(self):
        path = "/%s/-/%s-1.0.0.tgz" % (self.name, self.name)
        r = self.npm("GET", path)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
        self.assertEqual(gzip.decompress(r.body)[:7], b"package")
        etag = r.headers["ETag"]
        self.assertStatus(self.npm("GET", path, headers={"If-None-Match": etag}), 304)
        h = self.npm("HEAD", path)
        self.assertStatus(h, 200)
        self.assertEqual(h.body, b"")
        self.assertIn("immutable", r.headers["Cache-Control"])
        for bad in ("/%s/-/%s-9.9.9.tgz" % (self.name, self.name),
                    "/%s/-/other-1.0.0.tgz" % self.name,
                    "/%s/-/%s-1.0.0.tar.gz" % (self.name, self.name),
                    "/nosuch-pkg-zz/-/nosuch-pkg-zz-1.0.0.tgz"):
            self.assertNpmError(self.npm("GET", bad), 404)

    def test_unknown(self):
        r = self.packument("nosuch-" + self.uniq("x"))
        self.assertNpmError(r, 404, "no package named")
        self.assertNpmError(self.packument("nosuch-" + self.uniq("x"), corgi=True), 404)
        self.assertNpmError(self.npm("GET", "/-/nothing/here"), 404)
        self.assertNpmError(self.npm("POST", "/" + self.name), 404)


class PrivateReads(NpmTestCase):
    depot_args = ("--private",)

    def test_reads_need_a_credential(self):
        u = self.register_user(prefix="pr")
        name = self.uniq("priv")
        from npm.npmtest import publish_doc
        self.assertStatus(self.npm("PUT", "/" + name, auth=u.bearer,
                                   json_body=publish_doc(name, "1.0.0")), 201)
        for path in ("/" + name, "/%s/-/%s-1.0.0.tgz" % (name, name), "/-/v1/search?text=x",
                     "/-/package/%s/dist-tags" % name):
            r = self.npm("GET", path)
            self.assertNpmError(r, 401)
            self.assertIn("Bearer", r.headers.get_all("WWW-Authenticate")[0])
        tok, _ = self.make_token(u.bearer, ("read",))
        r = self.packument(name, auth="Bearer " + tok)
        self.assertStatus(r, 200)
        self.assertIn("private", r.headers["Cache-Control"])
        # ping answers anyone
        self.assertStatus(self.npm("GET", "/-/ping"), 200)
        _ = time
