"""Rate limits: token buckets per class (rate plus burst), their headers, 429 with Retry-After,
per IP for anonymous callers and per user when authenticated, the authentication class per IP
whatever the credential, refilling on a clock of its own (no window, so nothing here depends on
the position in the hour), /health and /metrics unlimited, defaults, and --rate-limit off."""

import time

from apitest import DepotTestCase

REG = "/api/v1/auth/register"
RL = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
HOUR = 3600


class RateLimits(DepotTestCase):
    rate_limit = True
    # One request an hour sustained: within a test, a bucket only empties.
    depot_args = ("--rate-limit", "on", "--rate-read", "1", "--rate-read-burst", "4",
                  "--rate-auth", "1", "--rate-auth-burst", "3")
    create_admin = False  # registering would spend the authentication bucket

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
        # Reset: when the bucket is full again, one interval (an hour here) per spent request
        reset = int(r.headers["X-RateLimit-Reset"])
        now = time.time()
        spent = limit - int(r.headers["X-RateLimit-Remaining"])
        self.assertTrue(now - 5 <= reset <= now + (spent + 1) * HOUR + 5,
                        "X-RateLimit-Reset %d (now %d, %d spent)" % (reset, now, spent))

    def test_anonymous_bucket_then_429(self):
        path = "/api/v1/packages/" + self.uniq("none")
        for i in range(4):
            r = self.depot.get(path)
            self.assertError(r, 404)
            self.check_headers(r, 4, 3 - i)
        r = self.depot.get(path)
        self.assertError(r, 429)
        self.check_headers(r, 4, 0)
        retry = int(r.headers["Retry-After"])
        self.assertTrue(HOUR - 10 <= retry <= HOUR, "Retry-After %d: one interval" % retry)
        # another route of the class shares the bucket
        self.assertError(self.depot.get("/api/v1/stats"), 429)
        # /health and /metrics are not limited
        for _ in range(5):
            self.assertStatus(self.depot.get("/health"), 200)
            self.assertStatus(self.depot.get("/metrics"), 200)
        # an authenticated caller has its own bucket
        _, secret = self.cli_token()
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + secret))

    def test_authenticated_bucket_is_per_user(self):
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

    def test_two_tokens_of_one_user_share_the_bucket(self):
        u, t1 = self.cli_token()
        p = self.depot.cli("token", "create", u.username, self.uniq("rl2"), "--scopes", "read")
        self.assertEqual(p.returncode, 0, p.stderr)
        t2 = p.stdout.strip()
        for _ in range(2):
            self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + t1))
            self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + t2))
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + t1), 429)
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + t2), 429)

    def test_authentication_is_per_ip_whatever_the_credential(self):
        # logins with three different users' tokens spend one bucket: the caller's address
        tokens = [self.cli_token()[1] for _ in range(4)]
        u = self.cli_user(login=False)
        for i in range(3):
            r = self.depot.login(u.username, u.password, auth="Bearer " + tokens[i])
            self.assertJSON(r)
            self.check_headers(r, 3, 2 - i)
        r = self.depot.login(u.username, u.password, auth="Bearer " + tokens[3])
        self.assertError(r, 429)
        # registering is the same class
        name = self.uniq("an")
        self.assertError(self.depot.register(name, name + "@example.com", "correct horse"), 429)
        # a failed credential spends from it too, and is answered 429 once it is empty
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer not-a-token-at-all"), 429)


class RateLimitRefill(DepotTestCase):
    rate_limit = True
    create_admin = False
    # One search a second sustained, two at once.
    depot_args = ("--rate-search", "3600", "--rate-search-burst", "2")

    def test_a_bucket_refills_by_itself(self):
        path = "/api/v1/search?q=" + self.uniq("q")
        with self.depot.session() as s:
            got = [s.request("GET", path) for _ in range(3)]
        self.assertEqual([r.status for r in got], [200, 200, 429])
        self.assertEqual(got[2].headers["Retry-After"], "1")
        time.sleep(1.1)
        r = self.depot.get(path)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["X-RateLimit-Remaining"], "0")


class RateLimitDefaults(DepotTestCase):
    rate_limit = True
    create_admin = False

    def test_default_buckets(self):
        name = self.uniq("d")
        r = self.depot.register(name, name + "@example.com", "correct horse")
        self.assertJSON(r, 201)
        self.assertEqual(r.headers.get("X-RateLimit-Limit"), "60", r.describe())  # auth
        secret = self.depot.cli("token", "create", name, "t1", "--scopes", "read").stdout.strip()
        r = self.depot.get("/api/v1/me", auth="Bearer " + secret)
        self.assertJSON(r)
        self.assertEqual(r.headers.get("X-RateLimit-Limit"), "80000", r.describe())  # read
        r = self.depot.get("/api/v1/search?q=x")
        self.assertEqual(r.headers.get("X-RateLimit-Limit"), "300", r.describe())  # search

    def test_health_has_no_limit_headers(self):
        r = self.depot.get("/health")
        self.assertStatus(r, 200)
        self.assertIsNone(r.headers.get("X-RateLimit-Limit"), "/health is not limited")


class RateLimitOff(DepotTestCase):
    # the harness passes --rate-limit off; tiny limits must then change nothing
    depot_args = ("--rate-auth-burst", "2", "--rate-read-burst", "2", "--login-failures", "1")

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
        # nor is any account locked
        for _ in range(3):
            self.assertError(self.depot.login(u.username, "wrong"), 401)
        self.assertJSON(self.depot.login(u.username, u.password))
