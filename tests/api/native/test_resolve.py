"""POST /api/v1/resolve: chains, diamonds, conflicts, missing packages, prereleases,
requirement forms, bad requirements and bodies, and a 50-package graph."""

from native.nativetest import NativeTestCase, sha256_hex


class Resolve(NativeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="rs")
        cls.shas = {}

    def mk(self, name, version, deps=None, dev=None):
        doc, tb = self.published(self.owner.bearer, name, version, dependencies=deps or {},
                                 dev_dependencies=dev or {})
        type(self).shas[(name, version)] = sha256_hex(tb)
        return doc

    def picks(self, deps, **extra):
        doc = self.assertJSON(self.resolve(deps, **extra))
        return {k: v["version"] for k, v in doc["packages"].items()}

    def test_chain(self):
        a, b, c = self.uniq("a"), self.uniq("b"), self.uniq("c")
        for v in ("2.1.0", "2.1.5", "2.2.0"):
            self.mk(c, v)
        for v in ("1.0.0", "1.3.0"):
            self.mk(b, v, {c: "~2.1"})
        self.mk(b, "2.0.0")
        self.mk(a, "1.0.0", {b: "^1"}, dev={self.uniq("devonly"): "^9"})
        doc = self.assertJSON(self.resolve({a: "^1"}))
        pk = doc["packages"]
        self.assertEqual({k: v["version"] for k, v in pk.items()},
                         {a: "1.0.0", b: "1.3.0", c: "2.1.5"})
        for name, e in pk.items():
            self.assertEqual(e["sha256"], self.shas[(name, e["version"])])
            self.assertEqual(e["checksum"], "sha256:" + e["sha256"])
            dl = self.depot.get(self.path_of(e["download_url"]))
            self.assertStatus(dl, 200)
            self.assertEqual(sha256_hex(dl.body), e["sha256"])

    def test_diamond(self):
        a, b, c, d = (self.uniq(x) for x in "abcd")
        for v in ("1.0.0", "1.2.0", "1.4.0", "1.5.0", "2.0.0"):
            self.mk(d, v)
        self.mk(b, "1.0.0", {d: ">=1.2"})
        self.mk(c, "1.0.0", {d: "<1.5"})
        self.mk(a, "1.0.0", {b: "^1", c: "^1"})
        self.assertEqual(self.picks({a: "1.0.0"}), {a: "1.0.0", b: "1.0.0", c: "1.0.0",
                                                    d: "1.4.0"})
        # the same diamond from two roots
        self.assertEqual(self.picks({b: "*", c: "*"}), {b: "1.0.0", c: "1.0.0", d: "1.4.0"})

    def test_backtracking(self):
        a, b, c = (self.uniq(x) for x in "abc")
        self.mk(c, "1.0.0")
        self.mk(c, "2.0.0")
        self.mk(b, "1.0.0", {c: "^1"})
        self.mk(b, "2.0.0", {c: "^2"})
        # the newest b needs c 2, but the root pins c 1: b must fall back to 1.0.0
        self.assertEqual(self.picks({b: "*", c: "^1"}), {b: "1.0.0", c: "1.0.0"})

    def test_conflict_names_the_packages(self):
        a, b, c, d = (self.uniq(x) for x in "abcd")
        self.mk(d, "1.0.0")
        self.mk(d, "2.0.0")
        self.mk(b, "1.0.0", {d: "^1"})
        self.mk(c, "1.0.0", {d: "^2"})
        self.mk(a, "1.0.0", {b: "^1", c: "^1"})
        err = self.assertUnresolvable(self.resolve({a: "^1"}), d)
        self.assertTrue(b in err["message"] or c in err["message"], err["message"])
        self.assertUnresolvable(self.resolve({b: "^1", d: "^2"}), d)

    def test_missing_package(self):
        ghost = self.uniq("ghost")
        self.assertUnresolvable(self.resolve({ghost: "^1"}), ghost)
        a, ghost2 = self.uniq("a"), self.uniq("ghost")
        self.mk(a, "1.0.0", {ghost2: "^1"})
        self.assertUnresolvable(self.resolve({a: "^1"}), ghost2)
        # no version matches
        b = self.uniq("b")
        self.mk(b, "1.0.0")
        self.assertUnresolvable(self.resolve({b: "^2"}), b)

    def test_prereleases(self):
        p = self.uniq("pre")
        self.mk(p, "1.0.0")
        self.mk(p, "1.1.0-beta.1")
        self.assertEqual(self.picks({p: "^1.0"}), {p: "1.0.0"})
        self.assertEqual(self.picks({p: "*"}), {p: "1.0.0"})
        self.assertEqual(self.picks({p: "^1.0"}, include_prerelease=False), {p: "1.0.0"})
        self.assertEqual(self.picks({p: "^1.0"}, include_prerelease=True), {p: "1.1.0-beta.1"})
        self.assertEqual(self.picks({p: ">=1.1.0-beta.1"}), {p: "1.1.0-beta.1"})
        self.assertEqual(self.picks({p: "^1.1.0-beta.0"}), {p: "1.1.0-beta.1"})
        self.assertEqual(self.picks({p: "=1.1.0-beta.1"}), {p: "1.1.0-beta.1"})
        only = self.uniq("onlypre")
        self.mk(only, "0.1.0-alpha.1")
        self.assertUnresolvable(self.resolve({only: "*"}), only)
        self.assertEqual(self.picks({only: "*"}, include_prerelease=True),
                         {only: "0.1.0-alpha.1"})
        # a dependency's prerelease is not picked either, unless asked
        top = self.uniq("top")
        self.mk(top, "1.0.0", {p: ">=1.0.0"})
        self.assertEqual(self.picks({top: "^1"})[p], "1.0.0")

    def test_requirement_forms(self):
        p = self.uniq("forms")
        for v in ("1.0.0", "1.2.3", "1.2.9", "1.3.0", "2.0.0", "2.1.0", "3.0.0-rc.1"):
            self.mk(p, v)
        for req, want in (("^1.2", "1.3.0"), ("~1.2", "1.2.9"), ("~>1.2", "1.2.9"),
                          (">=1.2.3 <1.3", "1.2.9"), ("1.2 - 2.0", "2.0.0"),
                          ("1.0.0 - 1.2.3", "1.2.3"), ("1.x", "1.3.0"), ("1.2.x", "1.2.9"),
                          ("1.*", "1.3.0"), ("*", "2.1.0"), ("x", "2.1.0"),
                          ("=1.2.3 || =2.0.0", "2.0.0"), ("<1.2.9", "1.2.3"),
                          ("<=1.2.9", "1.2.9"), (">2.0.0", "2.1.0"), ("=1.0.0", "1.0.0"),
                          ("1.2.3", "1.2.3"), ("^0 || ^1", "1.3.0"),
                          ("^3.0.0-rc.1", "3.0.0-rc.1"), (">=3.0.0-rc.0", "3.0.0-rc.1")):
            with self.subTest(req=req):
                self.assertEqual(self.picks({p: req}), {p: want})

    def test_bad_requirements_are_422(self):
        p = self.uniq("badreq")
        self.mk(p, "1.0.0")
        for req in ("^^1", ">=>1", "1.2.3.4", "abc", "~", "1.0.0 -", ">= 1 <", "^1.0.0.0"):
            with self.subTest(req=req):
                r = self.resolve({p: req})
                err = self.assertError(r, 422, field="dependencies")
                self.assertIn(p, err["message"])
        # a bad name is refused too (never a 500)
        r = self.resolve({"Not A Name": "^1"})
        self.assertIn(r.status, (400, 422), r.describe())

    def test_bad_bodies_are_400(self):
        p = self.uniq("bb")
        for body in ({}, {"dependencies": []}, {"dependencies": "x"}, {"dependencies": None},
                     {"dependencies": {p: 1}}, {"dependencies": {p: None}},
                     {"dependencies": {}, "include_prerelease": "yes"}, [], "x", 5):
            with self.subTest(body=body):
                self.assertError(self.depot.post("/api/v1/resolve", json=body), 400)
        for raw in (b"{", b"not json", b""):
            with self.subTest(raw=raw):
                r = self.depot.request("POST", "/api/v1/resolve", body=raw,
                                       headers={"Content-Type": "application/json"})
                self.assertError(r, 400)
        r = self.depot.request("POST", "/api/v1/resolve", body=b"dependencies=x",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertError(r, 415)

    def test_empty_dependencies(self):
        self.assertEqual(self.assertJSON(self.resolve({}))["packages"], {})

    def test_api_alias(self):
        p = self.uniq("alias")
        self.mk(p, "1.0.0")
        r = self.depot.post("/api/resolve", json={"dependencies": {p: "^1"}})
        self.assertEqual(self.assertJSON(r)["packages"][p]["version"], "1.0.0")

    def test_look_alike_names_are_one_package(self):
        # "b-x" and "b_x" name the same package (docs/api.md): a resolution must not pick two
        # versions of it, nor answer a version that breaks one of the requirements
        a, b = self.uniq("la"), self.uniq("lb")
        bh, bu = b + "-x", b + "_x"
        self.mk(bh, "1.0.0")
        self.mk(bh, "2.0.0")
        self.mk(a, "1.0.0", {bu: "^2"})
        self.assertEqual(self.picks({bu: "^1"}), {bh: "1.0.0"})
        for deps in ({bh: "=1.0.0", a: "*"}, {bh: "=1.0.0", bu: "^2"}):
            with self.subTest(deps=deps):
                r = self.resolve(deps)
                if r.status == 200:
                    got = r.json()["packages"]
                    self.fail("two conflicting requirements on one package resolved to %s"
                              % {k: v["version"] for k, v in got.items()})
                self.assertUnresolvable(r)
        # agreeing spellings resolve to one entry
        self.assertEqual(self.picks({bh: "^2", a: "*"}), {bh: "2.0.0", a: "1.0.0"})

    def test_fifty_package_graph(self):
        pre = self.uniq("g")
        names = ["%sn%02d" % (pre, i) for i in range(50)]
        # g[i] depends on g[i+1] and g[i+3]; the last one pins an older g[49]
        for i in reversed(range(50)):
            deps = {}
            if i + 1 < 50:
                deps[names[i + 1]] = "^1.0"
            if i + 3 < 50:
                deps[names[i + 3]] = ">=1.0.0 <2"
            if i == 47:
                deps[names[49]] = "=1.0.0"
            self.mk(names[i], "1.0.0", deps)
            self.mk(names[i], "1.1.0", deps)
        got = self.picks({names[0]: "^1"})
        want = {n: "1.1.0" for n in names}
        # g[47] 1.1.0 pins g[49] 1.0.0, and nothing else asks for more
        want[names[49]] = "1.0.0"
        self.assertEqual(got, want)
        # and every one of them as a root at once
        got = self.picks({n: "*" for n in names[:49]})
        self.assertEqual(got, want)
