"""--trusted-proxies: behind a load balancer the client's address comes from X-Forwarded-For, but
only when the request arrives from a trusted proxy; anonymous rate limits and the access log use
that address; a client cannot pick its own address by sending the header itself; a bad list
stops the start with a clear message."""

import subprocess
import time

from apitest import DepotTestCase
from depot import depot_bin

LIMIT = 2


def remaining(r):
    return int(r.headers["X-RateLimit-Remaining"])


def search_lines(depot, want=1, timeout=5.0):
    """The access-log lines of searches, once at least `want` are there (a line is written just
    after its response is sent)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [ln for ln in depot.stderr_lines() if "path=/api/v1/search" in ln]
        if len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


class BehindTrustedProxy(DepotTestCase):
    rate_limit = True
    create_admin = False
    depot_args = ("--trusted-proxies", "127.0.0.0/8, ::1", "--rate-search", "1",
                   "--rate-search-burst", str(LIMIT))

    def search(self, xff=None):
        return self.depot.get("/api/v1/search?q=x",
                              headers={"X-Forwarded-For": xff} if xff else None)

    def test_each_forwarded_client_has_its_own_budget(self):
        a, b = "198.51.100.%d" % (self.uniq_n() % 250), "2001:db8::%x" % self.uniq_n()
        self.assertEqual([remaining(self.search(a)) for _ in range(LIMIT)], [1, 0])
        self.assertError(self.search(a), 429)
        self.assertEqual(remaining(self.search(b)), 1, "another client behind the proxy")
        # the nearest proxy's entry counts, not what the client wrote before it
        self.assertError(self.search("203.0.113.1, " + a), 429)
        # proxies in the chain are skipped: the client is the rightmost untrusted entry
        self.assertError(self.search(a + ", 127.0.0.5"), 429)
        lines = search_lines(self.depot, 6)
        self.assertTrue(any("ip=" + a in ln for ln in lines), lines[-3:])
        self.assertTrue(any("ip=" + b in ln for ln in lines), lines[-3:])

    def test_garbage_in_the_header_falls_back_to_the_proxy(self):
        before = len(search_lines(self.depot, 0))
        r = self.search("<script>, not-an-ip")
        self.assertStatus(r, 200, 429)
        line = search_lines(self.depot, before + 1)[-1]
        self.assertIn("ip=127.0.0.1", line)

    _n = 0

    @classmethod
    def uniq_n(cls):
        cls._n += 1
        return cls._n + 17


class NoTrustedProxy(DepotTestCase):
    rate_limit = True
    create_admin = False
    depot_args = ("--rate-search", "1", "--rate-search-burst", str(LIMIT))

    def test_the_header_is_ignored(self):
        path = "/api/v1/search?q=y"
        seen = [remaining(self.depot.get(path, headers={"X-Forwarded-For": "198.51.100.%d" % i}))
                for i in range(LIMIT)]
        self.assertEqual(seen, [1, 0], "without --trusted-proxies every request is 127.0.0.1's")
        line = search_lines(self.depot, LIMIT)[-1]
        self.assertIn("ip=127.0.0.1", line)

    def test_a_bad_list_stops_the_start(self):
        for spec, why in (("10.0.0.1/8", "host bits"), ("lb.internal", "not an IP"),
                          ("10.0.0.0/40", "prefix length")):
            p = subprocess.run([depot_bin(), "serve", "--data", "/nonexistent-depot-test",
                                "--trusted-proxies", spec], capture_output=True, text=True,
                               timeout=10)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("--trusted-proxies", p.stderr)
            self.assertIn(why, p.stderr)
