"""
test_postgres.py — depot on PostgreSQL, black-box: each class starts its own throwaway cluster
(tests/harness/pg.py: initdb in a temp dir, trust auth, a free port on 127.0.0.1) and depot
servers with --store postgres://... on a database in it. (The rest of the suite runs on
PostgreSQL too with `tests/api/run.py --store postgres`; these are the tests only a server of
its own can do.)

- PostgresRestart: the cluster stops under a running server: requests that need the store answer
  503 `unavailable` (no SQL, no crash), /health says the store fails; once it is back the same
  server answers again with nothing lost, download counts taken just before the stop included.
- TwoServersOneStore: servers A and B on one database (and one blob folder, one session secret):
  a publish, yank or owner change through one is visible through the other on the next request;
  concurrent publishes of one version through A and B give exactly one 201; downloads through
  both add up.
A missing PostgreSQL skips the classes, with the reason.
"""

import os
import shutil
import sys
import tempfile
import threading
import time

from native.nativetest import PACKAGES, NativeTestCase

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness")
sys.path.insert(0, os.path.abspath(HARNESS))

import pg as pg_harness  # noqa: E402  (tests/harness/pg.py)


class PostgresTestCase(NativeTestCase):
    """A class whose servers keep their metadata in a cluster of its own."""

    own_server = True  # on the class's cluster, which goes with the class

    unavailable = None
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.cluster = None
        if not pg_harness.available():
            cls.unavailable = "PostgreSQL is not installed (apt-get install postgresql)"
            cls.start_server = False
            cls.create_admin = False
            super().setUpClass()
            return
        cls.cluster = pg_harness.Cluster(max_connections=100)
        cls.cluster.start()
        cls.store_url = cls.cluster.create_database()
        cls.depot_args = ("--store", cls.store_url) + tuple(cls.extra_args)
        try:
            super().setUpClass()
        except BaseException:
            cls.cluster.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.cluster:
                cls.cluster.close()

    def setUp(self):
        if self.unavailable:
            self.skipTest(self.unavailable)
        super().setUp()

    def download(self, name, version, depot=None):
        d = depot or self.depot
        return d.get("%s/%s/versions/%s/download" % (PACKAGES, name, version))

    def downloads(self, name, depot=None):
        """The package's download count as its stats say (read from the store each time; the
        cached package document keeps counts out of its identity)."""
        d = depot or self.depot
        return self.assertJSON(d.get("%s/%s/stats" % (PACKAGES, name)))["downloads"]


class PostgresRestart(PostgresTestCase):

    def test_requests_fail_503_during_the_gap_and_work_after(self):
        user = self.new_user()
        name = self.pkgname("pr")
        self.published(user.bearer, name, "1.0.0")
        doc_before = self.package(name)
        for _ in range(3):
            self.assertStatus(self.download(name, "1.0.0"), 200)
        # Download counts are written every few seconds: these three are still in memory when
        # the store goes away, and must survive the gap.
        self.cluster.stop()
        try:
            r = self.depot.get("%s/%s" % (PACKAGES, name))
            self.assertError(r, 503, "unavailable")
            self.assertNotIn("sql", r.text.lower())
            h = self.depot.get("/health")
            self.assertEqual(h.status, 503, h.describe())
            self.assertNotEqual(h.json()["checks"]["store"], "ok")
            r, _ = self.publish(user.bearer, name, "2.0.0")
            self.assertError(r, 503, "unavailable")
            r = self.depot.login(user.username, user.password)
            self.assertEqual(r.status, 503, r.describe())
            time.sleep(6)  # a flush of the download counts fails meanwhile
            self.assertTrue(self.depot.alive(), "the server must live through the gap")
        finally:
            self.cluster.restart()
        # The same server, the same connections' threads: each reconnects on first use.
        self.assertJSON(self.depot.get("/health"))
        doc = self.package(name)
        self.assertEqual([v["version"] for v in doc["versions"]],
                         [v["version"] for v in doc_before["versions"]])
        self.published(user.bearer, name, "2.0.0")  # nothing half-written by the failed try
        self.assertEqual(self.versions(name), ["2.0.0", "1.0.0"])
        self.assertJSON(self.depot.login(user.username, user.password))

        self.assertTrue(self.wait_until(lambda: self.downloads(name) == 3, timeout=12),
                        "downloads counted before the gap: %s" % self.downloads(name))
        self.assertTrue(any("store" in ln and ("unreachable" in ln or "connect" in ln)
                            for ln in self.depot.stderr_lines()),
                        "the log should say the store was unreachable")


class TwoServersOneStore(PostgresTestCase):

    @classmethod
    def setUpClass(cls):
        cls.shared = tempfile.mkdtemp(prefix="depot-two-")
        cls.extra_args = ("--blobs", "file:" + os.path.join(cls.shared, "blobs"),
                          "--jwt-secret", "two-servers-share-this-secret-0123456789")
        super().setUpClass()
        if cls.cluster:
            cls.b = cls.make_depot(extra_args=cls.depot_args)
            cls.owner = cls.register_user(prefix="two")

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.shared, ignore_errors=True)

    def test_writes_through_one_are_seen_through_the_other_at_once(self):
        a, b = self.depot, self.b
        name = self.pkgname("ab")
        self.assertStatus(b.get("%s/%s" % (PACKAGES, name)), 404)  # B caches nothing wrong
        self.published(self.owner.bearer, name, "1.0.0", depot=None)
        self.assertEqual([v["version"] for v in self.package(name, depot=b)["versions"]],
                         ["1.0.0"])
        r, tb = self.publish(self.owner.bearer, name, "1.1.0", depot=b)
        self.assertStatus(r, 201)
        self.assertEqual(self.package(name, depot=a)["latest"], "1.1.0")
        self.assertEqual(self.download(name, "1.1.0", depot=a).body, tb)
        # a yank through A, seen by B; an owner added through B, seen by A
        self.assertStatus(a.request("PUT", "%s/%s/versions/1.1.0/yank" % (PACKAGES, name),
                                    auth=self.owner.bearer), 200)
        self.assertEqual(self.package(name, depot=b)["latest"], "1.0.0")
        other = self.register_user(prefix="two")
        r = b.request("PUT", "%s/%s/owners/%s" % (PACKAGES, name, other.username),
                      auth=self.owner.bearer)
        self.assertStatus(r, 200, 201, 204)
        owners = self.assertJSON(a.get("%s/%s/owners" % (PACKAGES, name)))["owners"]
        self.assertIn(other.username, [o["username"] for o in owners])
        # search through B finds what A published
        found = self.assertJSON(b.get("/api/v1/search?q=" + name))["packages"]
        self.assertEqual([p["name"] for p in found], [name])

    def test_concurrent_publishes_of_one_version_through_both(self):
        for round_ in range(5):
            name = self.pkgname("race")
            if round_ % 2:
                self.published(self.owner.bearer, name, "0.1.0")  # an existing package
            results = [None, None]
            barrier = threading.Barrier(2)

            def go(i, d):
                barrier.wait()
                results[i] = self.publish(self.owner.bearer, name, "1.0.0", depot=d)[0]

            threads = [threading.Thread(target=go, args=(i, d))
                       for i, d in enumerate((self.depot, self.b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses = sorted(r.status for r in results)
            self.assertEqual(statuses, [201, 409], [r.describe() for r in results])
            winner = [r for r in results if r.status == 201][0].json()
            for d in (self.depot, self.b):
                vs = [v for v in self.package(name, depot=d)["versions"] if v["version"] == "1.0.0"]
                self.assertEqual(len(vs), 1)
                self.assertEqual(vs[0]["sha256"], winner["sha256"])

    def test_downloads_through_both_add_up(self):
        name = self.pkgname("dl")
        self.published(self.owner.bearer, name, "1.0.0")
        for i in range(7):
            self.assertStatus(self.download(name, "1.0.0", depot=(self.depot, self.b)[i % 2]), 200)

        def total():
            return [self.downloads(name, depot=d) for d in (self.depot, self.b)] == [7, 7]

        self.assertTrue(self.wait_until(total, timeout=15),
                        "downloads through A and B: %s"
                        % [self.downloads(name, depot=d) for d in (self.depot, self.b)])
