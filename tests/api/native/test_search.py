"""Search: ranking, filters (keywords, tags, category), sorts, pagination with links, the
pageSize alias, limits, hostile queries, /api/v1/search?q= and the /api/ alias."""

import time
from urllib.parse import parse_qs, quote, urlsplit

from native.nativetest import PACKAGES, NativeTestCase


class Search(NativeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="se")

    def pub(self, name, version="1.0.0", **fields):
        self.published(self.owner.bearer, name, version, **fields)

    def names(self, url):
        return [p["name"] for p in self.assertJSON(self.depot.get(url))["packages"]]

    def test_result_shape(self):
        w = self.uniq("shape")
        self.pub(w, keywords=["kw"], categories=["parsing"])
        doc = self.assertJSON(self.depot.get("/api/v1/packages?search=" + w))
        for k in ("packages", "total", "page", "per_page", "links"):
            self.assertIn(k, doc)
        self.assertEqual(doc["total"], 1)
        self.assertEqual(doc["page"], 1)
        p = doc["packages"][0]
        for k in ("name", "description", "latest", "license", "keywords", "categories",
                  "downloads", "updated_at"):
            self.assertIn(k, p)
        self.assertEqual((p["name"], p["latest"], p["keywords"], p["categories"]),
                         (w, "1.0.0", ["kw"], ["parsing"]))
        for k in ("self", "next", "prev"):
            self.assertIn(k, doc["links"])
        self.assertIsNone(doc["links"]["next"])
        self.assertIsNone(doc["links"]["prev"])

    def test_name_match_ranks_above_description_match(self):
        w = self.uniq("rank")
        # published first and with the word twice in the description, so only the name can
        # put the other one first
        self.pub(self.uniq("desc"), description="all about %s and %s" % (w, w))
        self.pub(w, description="something unrelated")
        for url in ("/api/v1/packages?search=" + w, "/api/v1/search?q=" + w,
                    "/api/search?q=" + w, "/api/packages?search=" + w):
            with self.subTest(url=url):
                names = self.names(url)
                self.assertEqual(len(names), 2, names)
                self.assertEqual(names[0], w)

    def test_keyword_in_keywords_is_found(self):
        w = self.uniq("kwd")
        self.pub(self.uniq("k"), keywords=[w])
        self.assertEqual(len(self.names("/api/v1/search?q=" + w)), 1)

    def test_filters(self):
        w = self.uniq("flt")
        k1, k2 = self.uniq("k"), self.uniq("k")
        a, b, c = self.uniq("fa"), self.uniq("fb"), self.uniq("fc")
        self.pub(a, description="pkg %s" % w, keywords=[k1], tags=["stable"],
                 categories=["parsing"])
        self.pub(b, description="pkg %s" % w, keywords=[k1, k2], tags=["beta"],
                 categories=["caching", "parsing"])
        self.pub(c, description="pkg %s" % w, keywords=[k2], tags=["stable", "beta"],
                 categories=["caching"])
        q = "/api/v1/packages?search=%s" % w
        self.assertEqual(sorted(self.names(q)), sorted([a, b, c]))
        self.assertEqual(sorted(self.names("/api/v1/packages?keywords=" + k1)), sorted([a, b]))
        self.assertEqual(sorted(self.names("/api/v1/packages?keywords=" + k2)), sorted([b, c]))
        self.assertEqual(sorted(self.names(q + "&tags=stable")), sorted([a, c]))
        self.assertEqual(sorted(self.names(q + "&tags=beta")), sorted([b, c]))
        self.assertEqual(sorted(self.names(q + "&category=parsing")), sorted([a, b]))
        self.assertEqual(sorted(self.names(q + "&category=caching")), sorted([b, c]))
        self.assertEqual(self.names(q + "&category=caching&keywords=" + k1), [b])
        self.assertEqual(self.names(q + "&category=gui"), [])
        self.assertEqual(self.names("/api/v1/packages?keywords=" + self.uniq("none")), [])
        doc = self.assertJSON(self.depot.get(q + "&tags=stable"))
        self.assertEqual(doc["total"], 2)

    def test_sorts(self):
        w = self.uniq("srt")
        names = [w + "c", w + "a", w + "b"]
        for n in names:
            self.pub(n, description="pkg %s" % w)
            time.sleep(1.05)  # updated_at has a resolution of a second
        q = "/api/v1/packages?search=%s" % w
        self.assertEqual(self.names(q + "&sort=name"), sorted(names))
        self.assertEqual(self.names(q + "&sort=recent"), [w + "b", w + "a", w + "c"])
        # a new version moves a package to the top of recent
        self.pub(w + "c", "1.1.0", description="pkg %s" % w)
        self.assertEqual(self.names(q + "&sort=recent")[0], w + "c")
        for n, times in ((w + "a", 2), (w + "b", 1)):
            for _ in range(times):
                self.assertStatus(self.depot.get("%s/%s/1.0.0/download" % (PACKAGES, n)), 200)

        def ordered():
            got = self.names(q + "&sort=downloads")
            return got if got == [w + "a", w + "b", w + "c"] else None

        self.assertTrue(self.wait_until(ordered, timeout=8),
                        "sort=downloads did not order by downloads within 8 s: %s"
                        % self.names(q + "&sort=downloads"))
        self.assertEqual(len(self.names(q + "&sort=relevance")), 3)
        self.assertError(self.depot.get(q + "&sort=bogus"), 400)

    def test_pagination(self):
        w = self.uniq("pg")
        made = [self.uniq("pg") for _ in range(5)]
        for n in made:
            self.pub(n, description="pkg %s" % w)
        base = "/api/v1/packages?search=%s&sort=name" % w
        seen = []
        url = base + "&per_page=2"
        pages = 0
        while url:
            doc = self.assertJSON(self.depot.get(url))
            pages += 1
            self.assertEqual(doc["total"], 5)
            self.assertEqual(doc["per_page"], 2)
            self.assertEqual(doc["page"], pages)
            self.assertLessEqual(len(doc["packages"]), 2)
            seen += [p["name"] for p in doc["packages"]]
            links = doc["links"]
            self.assertTrue(links["self"])
            if pages == 1:
                self.assertIsNone(links["prev"])
            else:
                prev = parse_qs(urlsplit(links["prev"]).query)
                self.assertEqual(prev["page"], [str(pages - 1)])
            if links["next"]:
                nq = parse_qs(urlsplit(links["next"]).query)
                self.assertEqual(nq["page"], [str(pages + 1)])
                self.assertEqual(nq.get("search"), [w], "next should keep the search")
                self.assertEqual(nq.get("sort"), ["name"], "next should keep the sort")
                url = self.path_of(links["next"])
            else:
                url = None
            self.assertLess(pages, 5)
        self.assertEqual(pages, 3)
        self.assertEqual(seen, sorted(made))
        # pageSize is an alias of per_page
        doc = self.assertJSON(self.depot.get(base + "&pageSize=3&page=2"))
        self.assertEqual(doc["per_page"], 3)
        self.assertEqual(doc["page"], 2)
        self.assertEqual([p["name"] for p in doc["packages"]], sorted(made)[3:])
        # past the end: an empty page
        doc = self.assertJSON(self.depot.get(base + "&per_page=2&page=9"))
        self.assertEqual(doc["packages"], [])
        self.assertEqual(doc["total"], 5)

    def test_paging_limits(self):
        for q in ("per_page=101", "pageSize=101", "per_page=0", "per_page=-1", "per_page=abc",
                  "page=0", "page=-3", "page=x", "per_page=1e2"):
            with self.subTest(q=q):
                self.assertError(self.depot.get("/api/v1/packages?" + q), 400)
        self.assertEqual(self.assertJSON(
            self.depot.get("/api/v1/packages?per_page=100"))["per_page"], 100)
        self.assertEqual(self.assertJSON(
            self.depot.get("/api/v1/search?q=x&pageSize=100"))["per_page"], 100)

    def test_hostile_queries(self):
        self.pub(self.uniq("host"), description="quote \" and stars * here")
        for q in ('"', '""', 'AND(', 'a AND', 'OR', 'NOT x', '*', '**', 'a*', '-x', '^x',
                  'col:val', 'name:x', '(', ')', "'", '\\', ';--', "x' OR '1'='1",
                  'NEAR(a b)', '{a b}', '%', '\u00e9t\u00e9', '\u6f22\u5b57', '\U0001f600',
                  'a' * 300, 'ab ' * 100, 'x' * 256):
            for path, key in (("/api/v1/packages", "search"), ("/api/v1/search", "q")):
                with self.subTest(q=q[:40], path=path):
                    r = self.depot.get("%s?%s=%s" % (path, key, quote(q)))
                    self.assertIn(r.status, (200, 400), r.describe())
                    if r.status == 200:
                        self.assertIsInstance(self.assertJSON(r)["packages"], list)
                    else:
                        self.assertError(r, 400)

    def test_empty_query_lists_everything(self):
        w = self.uniq("all")
        self.pub(w)
        for url in ("/api/v1/search?q=", "/api/v1/search", "/api/v1/packages",
                    "/api/v1/packages?search=", "/api/search?q="):
            with self.subTest(url=url):
                doc = self.assertJSON(self.depot.get(url + ("&" if "?" in url else "?")
                                                     + "per_page=100"))
                self.assertGreaterEqual(doc["total"], 1)
                self.assertIn(w, [p["name"] for p in doc["packages"]])

    def test_summary_latest_is_the_highest_release(self):
        w = self.uniq("lat")
        self.pub(w, "1.0.0")
        self.pub(w, "2.0.0-alpha.1")
        s = self.assertJSON(self.depot.get("/api/v1/search?q=" + w))["packages"]
        self.assertEqual([(p["name"], p["latest"]) for p in s], [(w, "1.0.0")])
