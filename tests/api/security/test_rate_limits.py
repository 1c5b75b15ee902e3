"""Rate limits that stop attackers and never stop users, with the server's default limits.

- An anonymous burst of 3,000 packument and tarball GETs from one address gets no 429 (reads
  are a bucket with a large burst, not a small hourly count).
- Failed logins count against the account they name, whatever credential rides along: 30 wrong
  passwords for one account, each sent with another user's valid token, get 401 ten times and
  429 from the eleventh on (before, each credential had a budget of its own: 30 × 401).
- The lock is the same for a name that is no account, holds for the right password too, covers
  every password check (npm's couch login, HTTP Basic, the dashboard's login form), and leaves
  the account's API tokens working.
"""

import base64
import os
import sys

from npm.npmtest import NpmTestCase, esc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "browser"))
from webclient import WebClient  # noqa: E402

LOGIN = "/api/v1/auth/login"


def basic(login, password):
    return "Basic " + base64.b64encode(("%s:%s" % (login, password)).encode()).decode()


class RateLimitCase(NpmTestCase):
    rate_limit = True  # the server's defaults, counted (a server of the class's own)
    create_admin = False

    @staticmethod
    def invariant_problems(r):
        if (r.path or "").split("?")[0] == "/login":  # the dashboard answers pages, not JSON
            ra = r.headers.get("Retry-After")
            return [] if r.status != 429 or (ra or "").isdigit() else ["429 without Retry-After"]
        return NpmTestCase.invariant_problems(r)

    def cli_token(self, scopes="read publish"):
        """A user and a token of theirs, made with the CLI (no HTTP, so no bucket is spent)."""
        u = self.cli_user(login=False)
        p = self.depot.cli("token", "create", u.username, self.uniq("t"), "--scopes", scopes)
        self.assertEqual(p.returncode, 0, p.stderr)
        return u, "Bearer " + p.stdout.strip()

    def assertLocked(self, r):
        self.assertStatus(r, 429)
        self.assertGreater(int(r.headers["Retry-After"]), 0, r.describe())


class AnonymousBurst(RateLimitCase):

    def test_3000_packument_and_tarball_gets_get_no_429(self):
        _, tok = self.cli_token()
        name = self.uniq("burst")
        self.assertStatus(self.npm_publish(tok, name, "1.0.0"), 200, 201)
        tarball = "/npm/%s/-/%s-1.0.0.tgz" % (esc(name), name)
        statuses = {}
        with self.depot.session() as s:
            for i in range(3000):
                r = s.request("GET", "/npm/" + esc(name) if i % 2 == 0 else tarball)
                statuses[r.status] = statuses.get(r.status, 0) + 1
        self.assertEqual(statuses, {200: 3000})
        # the headers describe the bucket: its burst, and what is left of it
        r = self.depot.get(tarball)
        self.assertEqual(r.headers["X-RateLimit-Limit"], "80000")
        self.assertLess(int(r.headers["X-RateLimit-Remaining"]), 80000 - 2000, "the burst was spent from")


class FailedLoginsPerAccount(RateLimitCase):

    def test_30_wrong_passwords_with_30_credentials_get_429_from_the_eleventh(self):
        victim = self.cli_user(login=False)
        callers = [self.cli_token()[1] for _ in range(30)]
        got = []
        for i, auth in enumerate(callers):
            r = self.depot.login(victim.username, "wrong-%d" % i, auth=auth)
            got.append(r.status)
            if r.status == 429:
                self.assertLocked(r)
        self.assertEqual(got, [401] * 10 + [429] * 20)
        # the right password is refused too while the lock lasts ...
        self.assertLocked(self.depot.login(victim.username, victim.password))
        self.assertLocked(self.depot.login(victim.email, victim.password, field="email"))
        # ... but the account's tokens keep working: the lock cannot cut a team off
        p = self.depot.cli("token", "create", victim.username, "ci", "--scopes", "read")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + p.stdout.strip()))


class FailedLoginsEverywhere(RateLimitCase):

    def test_an_unknown_name_locks_the_same_way(self):
        name = self.uniq("ghost")
        got = [self.depot.login(name, "wrong").status for _ in range(11)]
        self.assertEqual(got, [401] * 10 + [429])

    def test_npm_couch_login_is_counted_per_account(self):
        victim = self.cli_user(login=False)
        path = "/-/user/org.couchdb.user:" + victim.username
        got = []
        for i in range(11):
            r = self.npm("PUT", path, json_body={"_id": "org.couchdb.user:" + victim.username,
                                                 "name": victim.username, "password": "no-%d" % i,
                                                 "type": "user", "roles": []})
            got.append(r.status)
        self.assertEqual(got, [401] * 10 + [429])
        self.assertLocked(r)
        # the lock is the account's: the native login for it is refused as well
        self.assertLocked(self.depot.login(victim.username, victim.password))

    def test_basic_credentials_are_counted_per_account(self):
        victim = self.cli_user(login=False)
        got = [self.depot.get("/api/v1/me", auth=basic(victim.username, "no-%d" % i)).status
               for i in range(11)]
        self.assertEqual(got, [401] * 10 + [429])
        self.assertLocked(self.depot.get("/api/v1/me", auth=basic(victim.username, victim.password)))

    def test_the_dashboard_login_is_counted_per_account(self):
        victim = self.cli_user(login=False)
        web = WebClient(self.depot)
        got = [web.login(victim.username, "no-%d" % i).status for i in range(11)]
        self.assertEqual(got, [401] * 10 + [429])
        r = web.login(victim.username, victim.password)
        self.assertLocked(r)
        self.assertIn("too many failed logins", r.text)
