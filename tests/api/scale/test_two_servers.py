"""
test_two_servers.py — the deployment of README "Running several servers", black-box: servers A and
B side by side on one PostgreSQL (tests/harness/pg.py), one S3 bucket (s3rver, tests/harness/s3.py)
and one Redis (tests/harness/redis.py), each with a data folder of its own and the two things the
README says to share besides: the session secret (--jwt-secret) and the Hex registry key
(--hex-key). A load balancer may send any request to either, so:

- a publish through A in every ecosystem (native, Hex, npm, pub) is visible and downloadable
  through B on the next request, byte for byte, and B's signed Hex registry file verifies with the
  one public key both serve;
- a yank, retire, deprecate or owner change through B is seen through A at once (no stale
  document in either server's cache);
- concurrent publishes of one version through A and B: exactly one wins, both then serve it;
- a rate limit spent on A is spent on B;
- downloads through both add up exactly;
- a session made by A is good on B.

The services are installed by scripts/install-deps (test); when one is missing the class fails
rather than skips, since this is the test that proves the README's section.
"""

import base64
import os
import shutil
import subprocess
import tempfile
import threading

from native.nativetest import PACKAGES, sha256_hex
from hex.hextest import API as HEX_API, REPO as HEX_REPO, decode_package, hex_tarball, open_registry
from npm.npmtest import NPM, esc, publish_doc
from pub.dartpub import DartPub, package as pub_package
from pub.pubtest import PUB
from scale.stack import StackTestCase

LIMIT = 40  # searches per hour for anonymous clients, shared through Redis (the rest unlimited)


class TwoServersFullStack(StackTestCase):
    services = ("pg", "s3", "redis")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shared = tempfile.mkdtemp(prefix="depot-two-full-")
        try:
            key = os.path.join(cls.shared, "hex.pem")
            subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True,
                           capture_output=True)
            common = ["--store", cls.pg.create_database(),
                      "--blobs", cls.s3.url_with("registry"),
                      "--redis", cls.redis.url,
                      "--jwt-secret", base64.b64encode(os.urandom(32)).decode(),
                      "--hex-key", key,
                      "--rate-search", "1", "--rate-search-burst", str(LIMIT)]
            for c in ("auth", "publish", "write", "read"):
                common += ["--rate-" + c, "3600000", "--rate-%s-burst" % c, "1000000"]
            cls.a = cls.make_depot(extra_args=common, rate_limit=True)
            cls.b = cls.make_depot(extra_args=common, rate_limit=True)
            cls.depot = cls.a
            cls.owner = cls.register_user(cls.a, prefix="two")
            cls.tokens = {}
            for eco in ("hex", "npm", "pub"):
                r = cls.a.create_token(cls.owner.bearer, "two-" + eco, ["read", "publish:" + eco])
                if r.status != 201:
                    raise AssertionError("cannot make a token: %s" % r.describe())
                cls.tokens[eco] = r.json()["token"]
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.shared, ignore_errors=True)

    def both(self):
        return (self.a, self.b)

    # ---- every ecosystem -------------------------------------------------------------------

    def test_native_publish_through_a_is_served_by_b(self):
        name = self.pkgname("tn")
        self.assertStatus(self.b.get("%s/%s" % (PACKAGES, name)), 404)  # B caches no 404 wrongly
        doc, tb = self.published(self.owner.bearer, name, "1.0.0", depot=self.a)
        self.assertEqual([v["version"] for v in self.package(name, depot=self.b)["versions"]],
                         ["1.0.0"])
        r = self.b.get("%s/%s/versions/1.0.0/download" % (PACKAGES, name))
        self.assertStatus(r, 200)
        self.assertEqual(sha256_hex(r.body), doc["sha256"])
        self.assertEqual(r.body, tb)
        # a yank through B, seen through A; an owner added through A, seen through B
        self.assertStatus(self.b.request("PUT", "%s/%s/versions/1.0.0/yank" % (PACKAGES, name),
                                         auth=self.owner.bearer), 200)
        self.assertTrue(self.package(name, depot=self.a)["versions"][0]["yanked"])
        other = self.register_user(self.b, prefix="twoo")
        self.assertStatus(self.a.request("PUT", "%s/%s/owners/%s" % (PACKAGES, name, other.username),
                                         auth=self.owner.bearer), 200, 201, 204)
        owners = self.assertJSON(self.b.get("%s/%s/owners" % (PACKAGES, name)))["owners"]
        self.assertIn(other.username, [o["username"] for o in owners])
        found = self.assertJSON(self.b.get("/api/v1/search?q=" + name))["packages"]
        self.assertEqual([p["name"] for p in found], [name])

    def test_hex_publish_through_a_is_served_by_b(self):
        name = "two_hex_" + self.uniq("h").replace("-", "_")
        pems = [d.get(HEX_REPO + "/public_key").body for d in self.both()]
        self.assertEqual(pems[0], pems[1], "both servers must sign with the one --hex-key")
        self.assertStatus(self.b.get(HEX_REPO + "/packages/" + name), 404)
        tb = hex_tarball(name, "1.0.0")
        r = self.a.request("POST", HEX_API + "/publish?replace=false", body=tb,
                           headers={"Authorization": self.tokens["hex"],
                                    "Content-Type": "application/octet-stream",
                                    "Accept": "application/json"})
        self.assertStatus(r, 201)
        reg = self.b.get(HEX_REPO + "/packages/" + name)
        self.assertStatus(reg, 200)
        payload, _ = open_registry(reg.body, pem=pems[0])
        self.assertEqual([x["version"] for x in decode_package(payload)["releases"]], ["1.0.0"])
        t = self.b.get("%s/tarballs/%s-1.0.0.tar" % (HEX_REPO, name))
        self.assertStatus(t, 200)
        self.assertEqual(t.body, tb)
        # retired through B, the registry file A serves says so at once
        r = self.b.request("POST", "%s/packages/%s/releases/1.0.0/retire" % (HEX_API, name),
                           json={"reason": "security", "message": "do not use"},
                           headers={"Authorization": self.tokens["hex"],
                                    "Accept": "application/json"})
        self.assertStatus(r, 204)
        payload, _ = open_registry(self.a.get(HEX_REPO + "/packages/" + name).body, pem=pems[0])
        self.assertIsNotNone(decode_package(payload)["releases"][0]["retired"])

    def test_npm_publish_through_a_is_served_by_b(self):
        name = self.uniq("two-npm")
        auth = "Bearer " + self.tokens["npm"]
        self.assertStatus(self.b.get(NPM + "/" + esc(name)), 404)
        doc = publish_doc(name, "1.0.0", registry=self.a.url + NPM + "/")
        r = self.a.request("PUT", NPM + "/" + esc(name), json=doc, auth=auth)
        self.assertStatus(r, 200, 201)
        pk = self.b.get(NPM + "/" + esc(name))
        self.assertStatus(pk, 200)
        v = pk.json()["versions"]["1.0.0"]
        tarball = base64.b64decode(doc["_attachments"]["%s-1.0.0.tgz" % name]["data"])
        path = v["dist"]["tarball"].split("://", 1)[1].split("/", 1)[1]
        t = self.b.get("/" + path)
        self.assertStatus(t, 200)
        self.assertEqual(t.body, tarball)
        # deprecated through B, A's packument says so at once
        pk_a = self.a.get(NPM + "/" + esc(name)).json()
        pk_a["versions"]["1.0.0"]["deprecated"] = "use something else"
        r = self.b.request("PUT", "%s/%s/-rev/%s" % (NPM, esc(name), pk_a.get("_rev", "0")),
                           json=pk_a, auth=auth)
        self.assertStatus(r, 200, 201)
        self.assertEqual(self.a.get(NPM + "/" + esc(name)).json()["versions"]["1.0.0"]
                         .get("deprecated"), "use something else")

    def test_pub_publish_through_a_is_served_by_b(self):
        name = "two_pub_" + self.uniq("p").replace("-", "_")
        archive = pub_package(name, "1.0.0")
        res = DartPub(self.a, self.a.url + PUB, token=self.tokens["pub"]).publish(archive, name)
        self.assertEqual(res.exit, 0, res)
        client_b = DartPub(self.b, self.b.url + PUB, token=self.tokens["pub"])
        listing = client_b.listing(name)
        self.assertEqual([v["version"] for v in listing["versions"]], ["1.0.0"])
        self.assertEqual(client_b.download(name, "1.0.0"), archive)

    # ---- races, limits, counts, sessions ---------------------------------------------------

    def test_concurrent_publishes_of_one_version_through_both(self):
        for _ in range(4):
            name = self.pkgname("race")
            results = [None, None]
            barrier = threading.Barrier(2)

            def go(i, d):
                barrier.wait()
                results[i] = self.publish(self.owner.bearer, name, "1.0.0", depot=d)[0]

            threads = [threading.Thread(target=go, args=(i, d)) for i, d in enumerate(self.both())]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(sorted(r.status for r in results), [201, 409],
                             [r.describe() for r in results])
            winner = [r for r in results if r.status == 201][0].json()
            for d in self.both():
                vs = self.package(name, depot=d)["versions"]
                self.assertEqual([(v["version"], v["sha256"]) for v in vs],
                                 [("1.0.0", winner["sha256"])])
                r = d.get("%s/%s/versions/1.0.0/download" % (PACKAGES, name))
                self.assertEqual(sha256_hex(r.body), winner["sha256"])

    def test_rate_limit_spent_on_a_is_spent_on_b(self):
        path = "/api/v1/search?q=" + self.uniq("none")
        seen = []
        for i in range(6):
            r = self.both()[i // 3].get(path)
            self.assertStatus(r, 200)
            self.assertEqual(r.headers["X-RateLimit-Limit"], str(LIMIT))
            seen.append(int(r.headers["X-RateLimit-Remaining"]))
        self.assertEqual(seen, list(range(seen[0], seen[0] - 6, -1)),
                         "A then B count down one budget: %s" % seen)
        while int(self.b.get(path).headers.get("X-RateLimit-Remaining", "0")) > 0:
            pass
        for d in self.both():
            self.assertError(d.get(path), 429)

    def test_downloads_through_both_add_up(self):
        name = self.pkgname("dl")
        self.published(self.owner.bearer, name, "1.0.0", depot=self.a)
        for i in range(9):
            self.assertStatus(self.both()[i % 2].get(
                "%s/%s/versions/1.0.0/download" % (PACKAGES, name)), 200)

        def counts():
            return [self.assertJSON(d.get("%s/%s/stats" % (PACKAGES, name)))["downloads"]
                    for d in self.both()]

        self.assertTrue(self.wait_until(lambda: counts() == [9, 9], timeout=15),
                        "downloads through A and B: %s" % counts())

    def test_a_session_from_a_is_good_on_b(self):
        u = self.register_user(self.a, prefix="sess")
        me = self.assertJSON(self.b.get("/api/v1/me", auth=u.bearer))
        self.assertEqual(me["username"], u.username)
