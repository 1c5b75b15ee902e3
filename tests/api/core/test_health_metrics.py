"""GET /health and GET /metrics; --private mode."""

import os
import shutil
import tempfile

from apitest import DepotTestCase

METRIC_NAMES = ("depot_http_requests_total", "depot_http_request_duration_seconds",
                "depot_http_requests_in_flight", "depot_store_errors_total",
                "depot_blob_errors_total")


def labels(key):
    return dict(key[1])


class HealthMetrics(DepotTestCase):

    def test_health_shape(self):
        r = self.depot.get("/health")
        h = self.assertJSON(r)
        self.assertEqual(h.get("status"), "ok")
        self.assertIsInstance(h.get("version"), str)
        self.assertTrue(h["version"])
        self.assertEqual(h.get("checks"), {"store": "ok", "blobs": "ok"})

    def test_health_needs_no_credential_and_ignores_none(self):
        self.assertJSON(self.depot.get("/health", auth=self.admin.bearer))

    def test_metrics_lists_the_documented_metrics(self):
        r = self.depot.get("/metrics")
        self.assertStatus(r, 200)
        self.assertTrue((r.headers.get("Content-Type") or "").startswith("text/plain"),
                        "Prometheus text should be text/plain: %r" % r.headers.get("Content-Type"))
        text = r.text
        for name in METRIC_NAMES:
            self.assertIn(name, text)
        types = {}
        for ln in text.splitlines():
            if ln.startswith("# TYPE "):
                parts = ln.split()
                if len(parts) >= 4:
                    types[parts[2]] = parts[3]
        self.assertEqual(types.get("depot_http_requests_total"), "counter")
        self.assertEqual(types.get("depot_http_request_duration_seconds"), "histogram")
        self.assertEqual(types.get("depot_http_requests_in_flight"), "gauge")
        self.assertEqual(types.get("depot_store_errors_total"), "counter")
        self.assertEqual(types.get("depot_blob_errors_total"), "counter")
        for suffix in ("_bucket", "_sum", "_count"):
            self.assertIn("depot_http_request_duration_seconds" + suffix, text)
        self.assertIn('le="+Inf"', text)

    def test_requests_are_counted_by_route_method_status(self):
        before = self.depot.metrics()
        for _ in range(3):
            self.assertJSON(self.depot.get("/api/v1/me", auth=self.admin.bearer))
        for _ in range(2):
            self.depot.get("/api/v1/nope")
        after = self.depot.metrics()

        def delta(pred):
            out = []
            for key, v in after.items():
                if key[0] == "depot_http_requests_total" and pred(labels(key)):
                    out.append((v - before.get(key, 0.0), labels(key)))
            return out

        for key in after:
            if key[0] == "depot_http_requests_total":
                self.assertTrue({"route", "method", "status"} <= set(labels(key)),
                                "labels should be route, method, status: %s" % labels(key))
        ok = delta(lambda l: l.get("method") == "GET" and l.get("status") == "200"
                   and l.get("route", "").rstrip("/").endswith("me"))
        self.assertTrue(any(d >= 3 for d, _ in ok),
                        "GET /api/v1/me x3 should add 3 to a 200 series; got %s" % ok)
        nf = delta(lambda l: l.get("method") == "GET" and l.get("status") == "404")
        self.assertTrue(sum(d for d, _ in nf) >= 2, "two 404s should be counted: %s" % nf)
        count = [v - before.get(k, 0.0) for k, v in after.items()
                 if k[0] == "depot_http_request_duration_seconds_count"]
        self.assertTrue(count and sum(count) >= 5, "the duration histogram should count them")

    def test_route_label_is_a_template_not_the_raw_path(self):
        marker = self.uniq("zzmark")
        self.depot.get("/api/v1/tokens/" + marker, auth=self.admin.bearer)
        self.depot.get("/api/v1/nope-" + marker)
        text = self.depot.get("/metrics").text
        self.assertNotIn(marker, text, "raw paths in labels make unbounded series")

    def test_in_flight_gauge_is_sane(self):
        m = self.depot.metrics()
        vals = [v for k, v in m.items() if k[0] == "depot_http_requests_in_flight"]
        self.assertTrue(vals)
        self.assertTrue(all(0 <= v <= 16 for v in vals), vals)


# Routes that --private closes to anonymous callers: those that need a credential anyway, and
# the anonymous reads of docs/api.md (checked once the server has them).
PRIVATE_READS = ("/api/v1/me", "/api/v1/tokens", "/api/v1/auth/me")
PUBLIC_READS = ("/api/v1/packages", "/api/v1/search?q=pad", "/api/v1/stats",
                "/api/v1/packages/no-such-package", "/api/v1/users/nosuchuser")


def no_route(r):
    """True when r is the 404 of a path the server has no route for (not yet implemented)."""
    if r.status != 404:
        return False
    try:
        return r.json()["error"]["message"].startswith("no route")
    except (ValueError, KeyError, TypeError):
        return False


class Private(DepotTestCase):
    depot_args = ("--private",)
    create_admin = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.cli_user()
        p = cls.depot.cli("token", "create", cls.user.username, "reader", "--scopes", "read")
        assert p.returncode == 0, p.stderr
        cls.secret = p.stdout.strip()
        cls.public = cls.make_depot()  # the same build without --private, to compare

    def test_anonymous_read_is_401(self):
        for path in PRIVATE_READS:
            with self.subTest(path=path):
                self.assertError(self.depot.get(path), 401)

    def test_anonymous_reads_that_are_public_otherwise_are_401(self):
        checked = []
        for path in PUBLIC_READS:
            pub = self.public.get(path)
            if no_route(pub):
                continue
            checked.append(path)
            with self.subTest(path=path):
                self.assertError(self.depot.get(path), 401)
                r = self.depot.get(path, auth="Bearer " + self.secret)
                self.assertEqual(r.status, pub.status,
                                 "with a read token the private server should answer as the "
                                 "public one does: %s vs %s" % (r.describe(), pub.describe()))
        if not checked:
            self.skipTest("the server has none of the anonymous read routes yet: %s"
                          % ", ".join(PUBLIC_READS))

    def test_reads_with_a_credential_work(self):
        for auth in ("Bearer " + self.secret, self.user.bearer, self.user.basic):
            with self.subTest(auth=auth[:12]):
                me = self.assertJSON(self.depot.get("/api/v1/me", auth=auth))
                self.assertEqual(me["username"], self.user.username)

    def test_login_still_works_anonymously(self):
        self.assertJSON(self.depot.login(self.user.username, self.user.password))

    def test_health_stays_open(self):
        self.assertJSON(self.depot.get("/health"))

    def test_unknown_route_does_not_reveal_anything_anonymously(self):
        r = self.depot.get("/api/v1/nope")
        self.assertError(r, (401, 404))


class HealthFailure(DepotTestCase):
    """/health answers 503 when the blob store's folder goes away, and 200 when it is back."""
    start_server = False

    def test_blob_store_gone_then_back(self):
        tmp = tempfile.mkdtemp(prefix="depot-blobs-")
        self.addCleanup(shutil.rmtree, tmp, True)
        blobs = os.path.join(tmp, "blobstore")
        d = self.make_depot(extra_args=("--blobs", "file:" + blobs))
        self.assertJSON(d.get("/health"))
        before = d.metrics()
        os.rename(blobs, blobs + ".away")
        try:
            r = d.get("/health")
            h = self.assertJSON(r, 503)
            self.assertEqual(h.get("status"), "fail")
            self.assertEqual(h["checks"].get("store"), "ok")
            self.assertTrue(str(h["checks"].get("blobs", "")).startswith("fail"),
                            "the failing check should say fail and why: %r" % h["checks"])
            self.assertNotIn(blobs, r.text)
            after = d.metrics()
            errs = [v - before.get(k, 0.0) for k, v in after.items()
                    if k[0] == "depot_blob_errors_total"]
            self.assertTrue(errs and sum(errs) >= 1, "depot_blob_errors_total should count it")
        finally:
            os.rename(blobs + ".away", blobs)
        self.assertJSON(d.get("/health"))
