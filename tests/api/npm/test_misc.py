"""npm search in the registry's shape (with maintainers on every result, keywords: qualifiers,
paging, only npm packages), ping, the audit endpoint with npm's gzip body, and the npm-shaped
answers for anything else under /npm/."""

import gzip
import json

from npm.npmtest import NpmTestCase, publish_doc


class Misc(NpmTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.register_user(prefix="ms")
        cls.word = cls.uniq("zebra")
        for i, name in enumerate((cls.word + "-one", cls.word + "-two", "@%s/three" % cls.word)):
            doc = publish_doc(name, "1.%d.0" % i,
                              pkg={"description": "a %s for tests" % cls.word,
                                   "keywords": ["stripes", "k%d" % i]})
            r = cls.depot.request("PUT", "/npm/" + name.replace("/", "%2f"), json=doc,
                                  auth=cls.alice.bearer)
            assert r.status == 201, r.describe()

    def search(self, q):
        r = self.npm("GET", "/-/v1/search?" + q)
        self.assertStatus(r, 200)
        return r.json()

    def test_search_shape(self):
        doc = self.search("text=%s&size=20&from=0&quality=0.65&popularity=0.98&maintenance=0.5" % self.word)
        self.assertEqual(doc["total"], 3)
        self.assertEqual(len(doc["objects"]), 3)
        self.assertIn("time", doc)
        for o in doc["objects"]:
            p = o["package"]
            for k in ("name", "version", "description", "keywords", "date", "publisher", "maintainers",
                      "links", "scope"):
                self.assertIn(k, p)
            self.assertIsInstance(p["maintainers"], list)
            self.assertEqual(p["maintainers"][0]["username"], self.alice.username)
            self.assertEqual(p["publisher"]["username"], self.alice.username)
            self.assertRegex(p["date"], r"^\d{4}-\d\d-\d\dT")
            self.assertIn("final", o["score"])
            self.assertIn("searchScore", o)
        scoped = [o["package"] for o in doc["objects"] if o["package"]["name"].startswith("@")][0]
        self.assertEqual(scoped["scope"], self.word)
        plain = [o["package"] for o in doc["objects"] if not o["package"]["name"].startswith("@")][0]
        self.assertEqual(plain["scope"], "unscoped")

    def test_search_paging_and_qualifiers(self):
        a = self.search("text=%s&size=2&from=0" % self.word)
        b = self.search("text=%s&size=2&from=2" % self.word)
        self.assertEqual(len(a["objects"]), 2)
        self.assertEqual(len(b["objects"]), 1)
        names = {o["package"]["name"] for o in a["objects"] + b["objects"]}
        self.assertEqual(len(names), 3)
        k = self.search("text=%s+keywords:k1" % self.word)
        self.assertEqual([o["package"]["name"] for o in k["objects"]], [self.word + "-two"])
        # unknown qualifiers are not searched as words
        self.assertEqual(self.search("text=%s+author:someone" % self.word)["total"], 3)
        self.assertEqual(self.search("text=nothingmatches" + self.uniq("q"))["objects"], [])
        for bad in ("size=0", "size=251", "from=-1", "size=x"):
            self.assertNpmError(self.npm("GET", "/-/v1/search?text=a&" + bad), 400)

    def test_search_is_npm_only(self):
        # a native package with the same word is not an npm result
        tb = __import__("native.nativetest", fromlist=["targz"]).targz(
            {"depot.json": json.dumps({"name": self.word.replace("-", "_") + "_native",
                                       "version": "1.0.0", "description": "a %s" % self.word,
                                       "license": "MIT"})})
        r = self.depot.publish(tb, auth=self.alice.bearer)
        self.assertStatus(r, 201)
        self.assertEqual(self.search("text=" + self.word)["total"], 3)

    def test_ping(self):
        r = self.npm("GET", "/-/ping")
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {})
        self.assertStatus(self.npm("GET", "/-/ping?write=true", auth=self.alice.bearer), 200)

    def test_audit(self):
        body = gzip.compress(json.dumps({self.word + "-one": ["1.0.0"], "left-pad": ["1.3.0"]}).encode())
        r = self.npm("POST", "/-/npm/v1/security/advisories/bulk", body=body,
                     headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {})

    def test_everything_else_is_an_npm_404(self):
        for method, path in (("GET", "/-/npm/v1/keys"), ("GET", "/-/_view/starredByUser"),
                             ("POST", "/-/npm/v1/security/audits/quick"), ("PUT", "/-/org/x/package"),
                             ("DELETE", "/-/nothing"), ("GET", "/a/b/c/d/e")):
            self.assertNpmError(self.npm(method, path), 404)

    def test_credential_errors_are_npm_shaped(self):
        r = self.npm("GET", "/" + self.word + "-one", auth="Bearer dpt_wrong_wrong_wrong_wrong")
        self.assertNpmError(r, 401)
        self.assertNpmError(self.npm("GET", "/-/ping", auth="Basic bm9ib2R5Om5vcGU="), 401)
