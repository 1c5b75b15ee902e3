"""Rate limits: headers, 429 with Retry-After, per-IP for anonymous callers and per user when
authenticated, /health and /metrics unlimited, defaults, and --rate-limit off."""

import time

from apitest import DepotTestCase

REG = "/api/v1/auth/register"
RL = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


class RateLimits(DepotTestCase):
    rate_limit = True
    depot_args = ("--rate-limit", "on", "--rate-other-anon", "3", "--rate-other-user", "4")
    create_admin = False  # registering would spend the anonymous budget

    def cli_token(self, scopes="read"):
        u = self.cli_user(login=False)
        p = self.depot.cli("token", "create", u.username, self.uniq("rl"), "--scopes", scopes)
        self.assertEqual(p.returncode, 0, p.stderr)
        return u, p.stdout.strip()

    def check_headers(self, r, limit, remaining=None):
        for h in RL:
            self.assertIn(h, r.headers, "%s missing on %s" % (h, r.describe()))
        self.assertEqual(r.headers["X-RateLimit-Limit"], str(limit))
        if remaining is not None:
            self.assertEqual(r.headers["X-RateLimit-Remaining"], str(remaining), r.describe())
        reset = int(r.headers["X-RateLimit-Reset"])
        now = time.time()
        self.assertTrue(now - 5 <= reset <= now + 3600 + 5,
                        "X-RateLimit-Reset should be epoch seconds within the hour: %d (now %d)"
                        % (reset, now))

    def test_anonymous_limit_then_429(self):
        for i in range(3):
            name = self.uniq("an")
            r = self.depot.register(name, name + "@example.com", "correct horse")
            self.assertJSON(r, 201)
            self.check_headers(r, 3, 2 - i)
        name = self.uniq("an")
        r = self.depot.register(name, name + "@example.com", "correct horse")
        self.assertError(r, 429)
        self.check_headers(r, 3, 0)
        retry = int(r.headers["Retry-After"])
        self.assertTrue(0 < retry <= 3600, "Retry-After %d should be within the hour" % retry)
        # login is in the same class and shares the spent budget
        self.assertError(self.depot.login(name, "correct horse"), 429)
        # other anonymous routes share the class budget
        self.assertError(self.depot.get("/api/v1/nope"), (404, 429))
        # /health and /metrics are not limited
        for _ in range(5):
            self.assertStatus(self.depot.get("/health"), 200)
            self.assertStatus(self.depot.get("/metrics"), 200)
        # an authenticated caller has its own budget
        _, secret = self.cli_token()
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + secret))

    def test_authenticated_limit_is_per_user(self):
        _, secret = self.cli_token()
        for i in range(4):
            r = self.depot.get("/api/v1/me", auth="Bearer " + secret)
            self.assertJSON(r)
            self.check_headers(r, 4, 3 - i)
        r = self.depot.get("/api/v1/me", auth="Bearer " + secret)
        self.assertError(r, 429)
        self.assertIn("Retry-After", r.headers)
        _, other = self.cli_token()
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + other))

    def test_two_tokens_of_one_user_share_the_budget(self):
        u, t1 = self.cli_token()
        p = self.depot.cli("token", "create", u.username, self.uniq("rl2"), "--scopes", "read")
        self.assertEqual(p.returncode, 0, p.stderr)
        t2 = p.stdout.strip()
        for _ in range(2):
            self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + t1))
            self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + t2))
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + t1), 429)
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + t2), 429)


class RateLimitDefaults(DepotTestCase):
    rate_limit = True
    create_admin = False

    def test_default_limits_other_class(self):
        name = self.uniq("d")
        r = self.depot.register(name, name + "@example.com", "correct horse")
        self.assertJSON(r, 201)
        self.assertEqual(r.headers.get("X-RateLimit-Limit"), "100", r.describe())
        secret = self.depot.cli("token", "create", name, "t1", "--scopes", "read").stdout.strip()
        r = self.depot.get("/api/v1/me", auth="Bearer " + secret)
        self.assertJSON(r)
        self.assertEqual(r.headers.get("X-RateLimit-Limit"), "1000", r.describe())

    def test_health_has_no_limit_headers(self):
        r = self.depot.get("/health")
        self.assertStatus(r, 200)
        self.assertIsNone(r.headers.get("X-RateLimit-Limit"), "/health is not limited")


class RateLimitOff(DepotTestCase):
    # the harness passes --rate-limit off; tiny limits must then change nothing
    depot_args = ("--rate-other-anon", "2", "--rate-other-user", "2")

    def test_no_headers_and_no_429(self):
        for _ in range(4):
            name = self.uniq("off")
            r = self.depot.register(name, name + "@example.com", "correct horse")
            self.assertJSON(r, 201)
            for h in RL:
                self.assertNotIn(h, r.headers)
        u = self.new_user()
        for _ in range(4):
            r = self.depot.get("/api/v1/me", auth=u.bearer)
            self.assertJSON(r)
            for h in RL:
                self.assertNotIn(h, r.headers)
