"""--cache-size: the cache of built documents keeps within its byte budget (the gauges on
/metrics say what it holds), and evicts the least recently used (tests/unit/core/test_documents.c has the
rest: the order of eviction, a document larger than the budget)."""

import base64
import os

from native.nativetest import PACKAGES, NativeTestCase


def gauge(d, name):
    return [v for (n, _), v in d.metrics().items() if n == name][0]


class DocumentCacheBudget(NativeTestCase):
    depot_args = ("--cache-size", "1")

    def test_stays_within_the_budget(self):
        owner = self.new_user()
        self.assertEqual(gauge(self.depot, "depot_document_cache_budget_bytes"), 1 << 20)
        names = []
        for i in range(10):
            name = self.pkgname("cache")
            readme = base64.b64encode(os.urandom(150 * 1024)).decode()
            self.published(owner.bearer, name, "1.0.0", readme=readme)
            names.append(name)
        for name in names:
            doc = self.package(name)
            self.assertEqual(len(doc["readme"]), 200 * 1024)
            self.assertLessEqual(gauge(self.depot, "depot_document_cache_bytes"), 1 << 20)
        held = gauge(self.depot, "depot_document_cache_entries")
        self.assertGreaterEqual(held, 1)
        self.assertLess(held, 10, "ten 200 KiB documents cannot all fit in 1 MiB")
        # the most recent one is served from the cache: same ETag, 304 on If-None-Match
        r = self.depot.get("%s/%s" % (PACKAGES, names[-1]))
        r2 = self.depot.get("%s/%s" % (PACKAGES, names[-1]),
                            headers={"If-None-Match": r.headers["ETag"]})
        self.assertStatus(r2, 304)
