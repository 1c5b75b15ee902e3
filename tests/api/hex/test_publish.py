"""
test_publish.py — the Hex API's writes and the reads clients make around them: publish by both
paths (with the `Expect: 100-continue` handshake of hex_core ≥ 0.12, and an early answer when the
declared size is already too big), every validation error with its field, `replace`, authorization
for every write, concurrent publishes of one version, revert, retire/unretire, docs
publish/delete (with the docs tarball and the browsable site), owners (list, add by username or
email, remove, transfer, the last owner), search, and the package and release views
`mix hex.info` reads.
"""

import gzip
import io
import tarfile
import threading

from hex.hextest import (ETF, HexTestCase, decode_package, etf_decode, hex_tarball, open_registry,
                         requirement, sha256)


def docs_tarball(files=None):
    files = files or {"index.html": "<html><body>docs</body></html>", "dist/app.js": "1;"}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for p, d in files.items():
            d = d.encode()
            ti = tarfile.TarInfo(p)
            ti.size = len(d)
            t.addfile(ti, io.BytesIO(d))
    return gzip.compress(raw.getvalue())


class Publish(HexTestCase):

    def test_both_paths_and_views(self):
        name = self.uniq("pubviews")
        t = hex_tarball(name, "1.0.0", requirements=[requirement("jason", "~> 1.4", repository="hexpm")])
        r = self.publish(t, name=name)
        self.assertEqual(r.status, 201, r.describe())
        rel = self.term(r)
        self.assertEqual(rel["checksum"], sha256(t))
        self.assertIsNone(rel["retirement"], "retirement is present and nil")
        self.assertTrue(rel.get("html_url") or rel.get("url"))
        self.assertTrue(r.headers.get("Location").endswith("/hex/api/packages/%s/releases/1.0.0" % name))
        r = self.publish(hex_tarball(name, "1.1.0"), path="/publish?replace=false")
        self.assertEqual(r.status, 201, r.describe())
        r = self.publish(hex_tarball(name, "1.2.0"), path="/repos/depot/packages/%s/releases?replace=false" % name)
        self.assertEqual(r.status, 201, r.describe())
        r = self.publish(hex_tarball(name, "1.3.0"), path="/repos/depot/publish?replace=false")
        self.assertEqual(r.status, 201, r.describe())
        # mix hex.info NAME
        p = self.term(self.api("GET", "/packages/" + name))
        self.assertEqual(p["name"], name)
        self.assertEqual(p["repository"], "depot")
        self.assertIn("mix.exs", p["configs"])
        self.assertEqual([x["version"] for x in p["releases"]], ["1.3.0", "1.2.0", "1.1.0", "1.0.0"])
        for x in p["releases"]:
            self.assertIn("inserted_at", x)
        self.assertEqual(p["meta"]["licenses"], ["Apache-2.0"])
        self.assertEqual(p["meta"]["links"], {"Source": "https://example.test/" + name})
        self.assertEqual(p["meta"]["description"], "A test package.")
        self.assertEqual(p["retirements"], {})
        self.assertEqual(p["latest_version"], "1.3.0")
        self.assertIn("all", p["downloads"])
        self.assertEqual([o["username"] for o in p["owners"]], [self.owner.username])
        # mix hex.info NAME VERSION
        rel = self.term(self.api("GET", "/packages/%s/releases/1.0.0" % name))
        for k in ("configs", "retirement", "inserted_at", "has_docs", "downloads", "requirements", "publisher",
                  "meta"):
            self.assertIn(k, rel)
        self.assertEqual(rel["requirements"]["jason"]["requirement"], "~> 1.4")
        self.assertEqual(rel["requirements"]["jason"]["app"], "jason")
        self.assertFalse(rel["requirements"]["jason"]["optional"])
        self.assertEqual(rel["publisher"]["username"], self.owner.username)
        self.assertEqual(rel["meta"]["build_tools"], ["rebar3"])
        self.assertEqual(self.term(self.api("GET", "/repos/hexpm/packages/" + name))["name"], name)
        self.assertHexError(self.api("GET", "/packages/%s/releases/9.9.9" % name), 404)
        self.assertHexError(self.api("GET", "/repos/hexpm/packages/nosuchpkg"), 404)

    def test_rebar3_shaped_requirements(self):
        base = self.uniq("r3base")
        self.published(base)
        name = self.uniq("r3top")
        t = hex_tarball(name, "1.0.0", requirements=[requirement(base, "~> 1.0", optional=True)],
                        shape="rebar3")
        self.assertStatus(self.publish(t, name=name), 201)
        pkg = self.registry_package(name)
        d = pkg["releases"][0]["deps"][0]
        self.assertEqual((d["package"], d["requirement"], d["optional"], d["repository"]), (base, "~> 1.0", 1, None))

    def test_expect_100_continue(self):
        name = self.uniq("expect")
        t = hex_tarball(name, "1.0.0")
        head = ("POST /hex/api/packages/%s/releases?replace=false HTTP/1.1\r\n"
                "content-type: application/octet-stream\r\ncontent-length: %d\r\n"
                "user-agent: hex_core/0.18.0 hex/2.5.1 (elixir/1.14.0) (OTP/25) (erts/13.1.5)\r\n"
                "te: \r\nhost: %s:%d\r\nexpect: 100-continue\r\nauthorization: %s\r\n"
                "accept: application/vnd.hex+erlang\r\nconnection: close\r\n\r\n"
                % (name, len(t), self.depot.host, self.depot.port, self.key))
        with self.depot.raw_conn() as c:
            c.send(head.encode())
            interim = c.read_response(timeout=5)
            self.assertIsNotNone(interim, "no 100 Continue before the body")
            self.assertEqual(interim.status, 100)
            c.send(t)
            r = c.read_response(timeout=10)
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(etf_decode(r.body)["checksum"], sha256(t))

    def test_too_big_is_answered_before_the_body(self):
        head = ("POST /hex/api/packages/big/releases?replace=false HTTP/1.1\r\n"
                "content-type: application/octet-stream\r\ncontent-length: %d\r\n"
                "host: x\r\nexpect: 100-continue\r\nauthorization: %s\r\n"
                "accept: application/vnd.hex+erlang\r\nconnection: close\r\n\r\n"
                % (10 ** 12, self.key))
        with self.depot.raw_conn() as c:
            c.send(head.encode())
            r = c.read_response(timeout=5)
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 413)
        r.method, r.path = "POST", "/hex/api/packages/big/releases"  # a Hex-shaped error, checked as one
        self.depot.responses.append(r)

    def test_validation_errors(self):
        cases = [
            (hex_tarball("bad-name", "1.0.0"), "name", None),
            (hex_tarball("x", "1.0.0"), "name", None),
            (hex_tarball("elixir", "1.0.0"), "name", "reserved"),
            (hex_tarball(self.uniq("v"), "1.0"), "version", None),
            (hex_tarball(self.uniq("v"), "1.0.0+build.1"), "version", "build number"),
            (hex_tarball(self.uniq("c"), "1.0.0", checksum="0" * 64), "tar", "checksum"),
            (hex_tarball(self.uniq("c"), "1.0.0", version_file=b"2"), "tar", "VERSION"),
            (hex_tarball(self.uniq("m"), "1.0.0", members=["VERSION", "CHECKSUM", "metadata.config"]), "tar",
             "missing"),
            (hex_tarball(self.uniq("m"), "1.0.0", members=["CHECKSUM", "VERSION", "metadata.config",
                                                           "contents.tar.gz"]), "tar", "order"),
            (hex_tarball(self.uniq("e"), "1.0.0", files={}), "tar", "empty"),
            (hex_tarball(self.uniq("e"), "1.0.0", files={"../evil": "x"}), "tar", None),
            (hex_tarball(self.uniq("r"), "1.0.0", requirements=[requirement("jason", "~> bad", repository="hexpm")]),
             "requirements", None),
            (hex_tarball(self.uniq("r"), "1.0.0", requirements=[requirement("nosuchdep_zz", "~> 1.0")]),
             "requirements", "does not exist"),
            (hex_tarball(self.uniq("l"), "1.0.0", meta={"links": 5}), "links", None),
            (b"not a tarball at all" * 40, "tar", None),
            (b"", "tar", None),
        ]
        for t, field, words in cases:
            with self.subTest(field=field, words=words):
                r = self.publish(t)
                e = self.assertHexError(r, 422, field=field)
                self.assertEqual(e["message"], "Validation error(s)")
                if words:
                    self.assertIn(words, str(e["errors"]))
        # metadata name against the URL's
        name = self.uniq("urlname")
        r = self.publish(hex_tarball(name, "1.0.0"), name=name + "x")
        self.assertHexError(r, 422, field="name", message="does not match")

    def test_replace(self):
        name = self.uniq("replace")
        t1 = self.published(name)
        t2 = hex_tarball(name, "1.0.0", files={"src/%s.erl" % name: "-module(%s).\n" % name, "rebar.config": "{}.\n"})
        r = self.publish(t2, name=name)
        e = self.assertHexError(r, 422, field="inserted_at")
        self.assertIn("--replace", e["errors"]["inserted_at"])
        r = self.publish(t2, name=name, replace=True)
        self.assertEqual(r.status, 200, "a replaced release answers 200: " + r.describe())
        self.assertIsNone(r.headers.get("Location"))
        pkg = self.registry_package(name)
        self.assertEqual(pkg["releases"][0]["outer"].hex(), sha256(t2))
        self.assertNotEqual(sha256(t1), sha256(t2))
        self.assertEqual(self.repo_get("/tarballs/%s-1.0.0.tar" % name).body, t2)

    def test_authorization(self):
        name = self.uniq("authz")
        t = hex_tarball(name, "1.0.0")
        self.assertHexError(self.publish(t, key="wrong-key-0000000000000000"), 401)
        r = self.api("POST", "/publish?replace=false", raw=t)
        self.assertHexError(r, 401)
        ro = self.depot.create_token(self.owner.bearer, self.uniq("ro"), ["read"]).json()["token"]
        self.assertHexError(self.publish(t, key=ro), 403)
        npm = self.depot.create_token(self.owner.bearer, self.uniq("npm"), ["publish:npm"]).json()["token"]
        self.assertHexError(self.publish(t, key=npm), 403)
        self.assertStatus(self.publish(t), 201)
        # another user may not publish, retire, revert, add owners or docs
        other = self.new_user(prefix="intruder")
        ok = self.depot.create_token(other.bearer, "k", ["publish:hex"]).json()["token"]
        self.assertHexError(self.publish(hex_tarball(name, "1.1.0"), key=ok), 403)
        self.assertHexError(self.api("POST", "/packages/%s/releases/1.0.0/retire" % name,
                                     {"reason": "other"}, key=ok), 403)
        self.assertHexError(self.api("DELETE", "/packages/%s/releases/1.0.0" % name, key=ok), 403)
        self.assertHexError(self.api("PUT", "/packages/%s/owners/%s" % (name, other.username),
                                     {"level": "full", "transfer": False}, key=ok), 403)
        self.assertHexError(self.api("POST", "/packages/%s/releases/1.0.0/docs" % name, raw=docs_tarball(),
                                     key=ok), 403)
        self.assertStatus(self.api("POST", "/packages/%s/releases/1.0.0/docs" % name, raw=docs_tarball(),
                                   key=self.key), 201)
        self.assertStatus(self.api("POST", "/packages/%s/releases/1.0.0/retire" % name, {"reason": "other"},
                                   key=self.key), 204)
        self.assertHexError(self.api("DELETE", "/packages/%s/releases/1.0.0/retire" % name, key=ok), 403)
        self.assertHexError(self.api("DELETE", "/packages/%s/releases/1.0.0/docs" % name, key=ok), 403)
        self.assertHexError(self.api("DELETE", "/packages/%s/owners/%s" % (name, self.owner.username), key=ok), 403)
        self.assertHexError(self.api("DELETE", "/packages/%s/owners/%s" % (name, self.owner.email), key=ok), 403)
        # read-only keys may not write either
        for method, path, body in (("DELETE", "/packages/%s/releases/1.0.0/retire" % name, None),
                                   ("DELETE", "/packages/%s/releases/1.0.0" % name, None),
                                   ("PUT", "/packages/%s/owners/%s" % (name, other.username), {"level": "full"}),
                                   ("DELETE", "/packages/%s/releases/1.0.0/docs" % name, None)):
            self.assertHexError(self.api(method, path, body, key=ro), 403)
            self.assertHexError(self.api(method, path, body), 401)
        # a key scoped to one package publishes that one only
        one = self.depot.create_token(self.owner.bearer, self.uniq("one"), ["publish:hex/" + name]).json()["token"]
        self.assertStatus(self.publish(hex_tarball(name, "1.2.0"), key=one), 201)
        self.assertHexError(self.publish(hex_tarball(self.uniq("elsewhere"), "1.0.0"), key=one), 403)

    def test_concurrent_publishes_of_one_version(self):
        name = self.uniq("race")
        tars = [hex_tarball(name, "1.0.0", description="variant %d" % i) for i in range(6)]
        results = [None] * len(tars)

        def go(i):
            results[i] = self.publish(tars[i], name=name)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(len(tars))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses.count(201), 1, statuses)
        self.assertEqual(statuses.count(422), len(tars) - 1, statuses)
        winner = [i for i, r in enumerate(results) if r.status == 201][0]
        pkg = self.registry_package(name)
        self.assertEqual(pkg["releases"][0]["outer"].hex(), sha256(tars[winner]))


class Lifecycle(HexTestCase):

    def test_retire_and_unretire(self):
        name = self.uniq("retire")
        self.published(name)
        r = self.api("POST", "/packages/%s/releases/1.0.0/retire" % name,
                     {"reason": "security", "message": "CVE fix"}, key=self.key)
        self.assertStatus(r, 204)
        rel = self.term(self.api("GET", "/packages/%s/releases/1.0.0" % name))
        self.assertEqual(rel["retirement"], {"reason": "security", "message": "CVE fix"})
        self.assertEqual(self.term(self.api("GET", "/packages/" + name))["retirements"]["1.0.0"]["reason"],
                         "security")
        retired = self.registry_package(name)["releases"][0]["retired"]
        self.assertEqual(retired, {"reason": 2, "message": "CVE fix"})
        self.assertStatus(self.api("DELETE", "/packages/%s/releases/1.0.0/retire" % name, key=self.key), 204)
        self.assertIsNone(self.term(self.api("GET", "/packages/%s/releases/1.0.0" % name))["retirement"])
        self.assertIsNone(self.registry_package(name)["releases"][0]["retired"])
        for reason in ("other", "invalid", "deprecated", "renamed"):
            self.assertStatus(self.api("POST", "/packages/%s/releases/1.0.0/retire" % name,
                                       {"reason": reason}, key=self.key), 204)
        self.assertHexError(self.api("POST", "/packages/%s/releases/1.0.0/retire" % name,
                                     {"reason": "bored"}, key=self.key), 422, field="reason")
        self.assertHexError(self.api("POST", "/packages/%s/releases/1.0.0/retire" % name,
                                     {"reason": "other", "message": "x" * 141}, key=self.key), 422,
                            field="message")
        self.assertHexError(self.api("POST", "/packages/%s/releases/9.0.0/retire" % name,
                                     {"reason": "other"}, key=self.key), 404)

    def test_revert(self):
        name = self.uniq("revert")
        self.published(name, "1.0.0")
        self.published(name, "1.1.0")
        self.assertStatus(self.api("DELETE", "/packages/%s/releases/1.1.0" % name, key=self.key), 204)
        self.assertEqual([x["version"] for x in self.registry_package(name)["releases"]], ["1.0.0"])
        self.assertStatus(self.repo_get("/tarballs/%s-1.1.0.tar" % name), 404)
        self.assertStatus(self.api("DELETE", "/packages/%s/releases/1.0.0" % name, key=self.key), 204)
        # no releases left: the package is gone for clients
        self.assertHexError(self.api("GET", "/packages/" + name), 404)
        self.assertStatus(self.repo_get("/packages/" + name), 404)
        self.assertHexError(self.api("DELETE", "/packages/%s/releases/1.0.0" % name, key=self.key), 404)
        # and the version may be published again (Hex reverts leave no tombstone)
        self.published(name, "1.0.0")

    def test_docs(self):
        name = self.uniq("docs")
        self.published(name)
        docs = docs_tarball()
        r = self.api("POST", "/packages/%s/releases/1.0.0/docs" % name, raw=docs, key=self.key)
        self.assertStatus(r, 201)
        loc = r.headers.get("Location")
        self.assertTrue(loc and loc.endswith("/docs/hex/%s/1.0.0/" % name), loc)
        self.assertEqual(r.body, b"")
        self.assertTrue(self.term(self.api("GET", "/packages/%s/releases/1.0.0" % name))["has_docs"])
        self.assertTrue(self.term(self.api("GET", "/packages/" + name))["releases"][0]["has_docs"])
        self.assertEqual(self.repo_get("/docs/%s-1.0.0.tar.gz" % name).body, docs)
        r = self.api("GET", "/packages/%s/releases/1.0.0/docs" % name)
        self.assertStatus(r, 302)
        self.assertTrue(r.headers.get("Location").endswith("/hex/repo/docs/%s-1.0.0.tar.gz" % name))
        site = self.depot.get("/docs/hex/%s/1.0.0/" % name)
        self.assertStatus(site, 200)
        self.assertIn(b"docs", site.body)
        self.assertStatus(self.api("DELETE", "/packages/%s/releases/1.0.0/docs" % name, key=self.key), 204)
        self.assertStatus(self.repo_get("/docs/%s-1.0.0.tar.gz" % name), 404)
        self.assertHexError(self.api("DELETE", "/packages/%s/releases/1.0.0/docs" % name, key=self.key), 404)
        self.assertHexError(self.api("POST", "/packages/%s/releases/9.9.9/docs" % name, raw=docs, key=self.key), 404)
        self.assertHexError(self.api("POST", "/packages/%s/releases/1.0.0/docs" % name, raw=b"junk" * 100,
                                     key=self.key), 422, field="tar")
        # a revert takes the version's docs with it
        self.assertStatus(self.api("POST", "/packages/%s/releases/1.0.0/docs" % name, raw=docs, key=self.key), 201)
        self.published(name, "1.1.0")
        self.assertStatus(self.api("DELETE", "/packages/%s/releases/1.0.0" % name, key=self.key), 204)
        self.assertStatus(self.repo_get("/docs/%s-1.0.0.tar.gz" % name), 404)

    def test_search(self):
        tag = self.uniq("srch")
        a, b = tag + "_alpha", tag + "_beta"
        self.published(a, description="Parses alpha documents quickly.")
        self.published(b)
        r = self.api("GET", "/packages?search=%s&sort=downloads" % tag)
        self.assertStatus(r, 200)
        items = self.term(r)
        names = [x["name"] for x in items]
        self.assertIn(a, names)
        self.assertIn(b, names)
        for x in items:
            self.assertTrue(x["html_url"] or x["url"])
            self.assertIn("description", x["meta"])
            self.assertTrue(x["releases"][0]["version"])
        self.assertEqual(self.term(self.api("GET", "/packages?search=zzznomatchzzz&sort=downloads")), [])
        self.assertStatus(self.api("GET", "/packages?sort=name&page=1"), 200)
        self.assertStatus(self.api("GET", "/repos/depot/packages?search=%s" % tag), 200)
        self.assertHexError(self.api("GET", "/packages?sort=sideways"), 400)
        self.assertHexError(self.api("GET", "/packages?page=0"), 400)


class Owners(HexTestCase):

    def test_add_list_remove_transfer(self):
        name = self.uniq("owned")
        self.published(name)
        bob = self.new_user(prefix="bob")
        carol = self.new_user(prefix="carol")
        path = "/packages/%s/owners/" % name
        # by address only once bob shows it, as hex.pm finds public addresses only
        self.assertHexError(self.api("PUT", path + bob.email, {"level": "full", "transfer": False}, key=self.key),
                            404)
        self.assertStatus(self.depot.show_email(bob.bearer), 200)
        self.assertStatus(self.api("PUT", path + bob.email, {"level": "full", "transfer": False}, key=self.key), 204)
        self.assertStatus(self.api("PUT", path + bob.username, {"level": "full", "transfer": False}, key=self.key),
                          204)  # again: still fine
        lst = self.term(self.api("GET", "/packages/%s/owners" % name, key=self.key))
        by = {o["username"]: o for o in lst}
        self.assertEqual(set(by), {self.owner.username, bob.username})
        self.assertEqual(by[bob.username]["level"], "full")
        self.assertEqual(by[bob.username]["email"], bob.email)
        self.assertEqual(self.term(self.api("GET", path + bob.username))["username"], bob.username)
        self.assertHexError(self.api("GET", path + carol.username), 404)
        self.assertHexError(self.api("PUT", path + carol.username, {"level": "maintainer", "transfer": False},
                                     key=self.key), 422, field="level")
        self.assertHexError(self.api("PUT", path + carol.username, {"level": "boss"}, key=self.key), 422,
                            field="level")
        self.assertHexError(self.api("PUT", path + "nosuchuser_zz", {"level": "full"}, key=self.key), 404)
        self.assertStatus(self.api("DELETE", path + bob.email, key=self.key), 204)
        self.assertHexError(self.api("DELETE", path + self.owner.username, key=self.key), 422,
                            message="last owner")
        # transfer: carol becomes the only owner
        self.assertStatus(self.api("PUT", "/repos/hexpm" + path + carol.username,
                                   {"level": "full", "transfer": True}, key=self.key), 204)
        lst = self.term(self.api("GET", "/packages/%s/owners" % name))
        self.assertEqual([o["username"] for o in lst], [carol.username])
        self.assertIsNone(lst[0]["email"], "an address its user did not show is given to nobody else")
        self.assertHexError(self.publish(hex_tarball(name, "2.0.0")), 403)
        self.assertStatus(self.api("GET", "/packages/%s/owners" % name), 200)
