"""The audit log: every write and every refused credential or action, with who, what, when and
from where, shown to admins on the dashboard's admin page (its newest 50 entries) and to nobody
else. A failed login (native API, web form, npm login), a wrong or revoked token, a wrong Basic
password, and a refused write each leave an entry with the caller's IP and the time; a publish,
yank, owner change and token creation leave one naming the user. No secret is ever written."""

import calendar
import html
import os
import re
import sys
import time

from native.nativetest import PACKAGES, NativeTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "browser"))
from webclient import WebClient  # noqa: E402

ROW = re.compile(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td><code>([^<]*)</code></td><td>([^<]*)</td>"
                 r"<td>([^<]*)</td><td>([^<]*)</td></tr>")


class Audit(NativeTestCase):

    @staticmethod
    def invariant_problems(r):
        # The dashboard answers with HTML pages and npm in its client's shape: the contract's
        # error invariants hold for the native API only.
        if (r.path or "").startswith("/api/"):
            return NativeTestCase.invariant_problems(r)
        return [] if r.headers.get("X-Request-Id") else ["no X-Request-Id header"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin_web = WebClient(cls.depot)
        r = cls.admin_web.login(cls.admin.username, cls.admin.password)
        assert r.status == 303, r.describe()

    def entries(self):
        """The admin page's audit rows, newest first: dicts of at (epoch), who, action, target,
        ip, detail."""
        r = self.admin_web.get("/admin")
        self.assertEqual(r.status, 200, r.describe())
        out = []
        for when, who, action, target, ip, detail in ROW.findall(r.text):
            out.append({"at": calendar.timegm(time.strptime(when, "%Y-%m-%d %H:%M:%S")),
                        "who": html.unescape(who), "action": html.unescape(action),
                        "target": html.unescape(target), "ip": html.unescape(ip),
                        "detail": html.unescape(detail), "page": r.text})
        return out

    def entry(self, action, target, who=None):
        """The newest entry of action on target (and by who), checked to carry a fresh time and
        the caller's IP."""
        for e in self.entries():
            if e["action"] == action and e["target"] == target and (who is None or e["who"] == who):
                self.assertLessEqual(abs(time.time() - e["at"]), 120, e)
                self.assertEqual(e["ip"], "127.0.0.1", e)
                return e
        self.fail("no audit entry %s on %r%s; newest: %r" % (
            action, target, " by " + who if who else "",
            [(e["action"], e["target"], e["who"]) for e in self.entries()[:15]]))

    # ---- refusals -----------------------------------------------------------------------------

    def test_failed_logins(self):
        u = self.new_user()
        self.assertError(self.depot.login(u.username, "not-the-password"), 401)
        e = self.entry("auth.login_failed", u.username)
        self.assertEqual(e["who"], "—", "the caller is not known: nobody logged in")
        self.assertIn("wrong username or password", e["detail"])
        self.assertNotIn("not-the-password", e["page"])
        # an unknown account is written down too, with the name tried
        ghost = self.uniq("ghost")
        self.assertError(self.depot.login(ghost, "whatever-pw"), 401)
        self.entry("auth.login_failed", ghost)
        # the dashboard's login form
        w = WebClient(self.depot)
        r = w.login(u.username, "web-wrong-pw")
        self.assertEqual(r.status, 401, r.describe())
        self.assertNotIn("web-wrong-pw", self.entry("auth.login_failed", u.username)["page"])
        # npm login (couch user document)
        r = self.depot.request("PUT", "/npm/-/user/org.couchdb.user:" + u.username,
                               json={"name": u.username, "password": "npm-wrong-pw"})
        self.assertEqual(r.status, 401, r.describe())
        e = self.entry("auth.login_failed", u.username)
        self.assertIn("npm login", e["detail"])

    def test_bad_credentials(self):
        bogus = "dpt_" + "Q" * 43
        r = self.depot.get("/api/v1/me", auth="Bearer " + bogus)
        self.assertError(r, 401)
        e = self.entry("auth.bad_credential", "GET /api/v1/me")
        self.assertIn('"credential":"bearer"', e["detail"])
        self.assertNotIn(bogus, e["page"], "a presented secret is never written down")
        # a revoked token
        u = self.new_user()
        secret, name = self.make_token(u.bearer, ["read"])
        self.assertStatus(self.depot.delete("/api/v1/tokens/" + name, auth=u.bearer), 204)
        self.assertError(self.depot.get("%s?search=x" % PACKAGES, auth="Bearer " + secret), 401)
        self.entry("auth.bad_credential", "GET /api/v1/packages")
        # a wrong Basic password names the login it tried, not the password
        r = self.depot.get("/api/v1/tokens", auth="Basic " + __import__("base64").b64encode(
            ("%s:basic-wrong-pw" % u.username).encode()).decode())
        self.assertError(r, 401)
        e = self.entry("auth.bad_credential", "GET /api/v1/tokens")
        self.assertIn('"login":"%s"' % u.username, e["detail"])
        self.assertNotIn("basic-wrong-pw", e["page"])

    def test_refused_write_names_who_tried(self):
        owner, other = self.new_user(), self.new_user()
        name = self.pkgname("aud")
        self.published(owner.bearer, name)
        r = self.depot.request("PUT", "%s/%s/versions/1.0.0/yank" % (PACKAGES, name),
                               auth=other.bearer)
        self.assertError(r, 403)
        self.entry("auth.forbidden", "PUT %s/%s/versions/1.0.0/yank" % (PACKAGES, name),
                   who=other.username)

    # ---- writes -------------------------------------------------------------------------------

    def test_writes_name_the_user(self):
        owner, friend = self.new_user(), self.new_user()
        name = self.pkgname("aud")
        self.published(owner.bearer, name)
        self.entry("package.publish", "native/%s@1.0.0" % name, who=owner.username)
        r = self.depot.request("PUT", "%s/%s/versions/1.0.0/yank" % (PACKAGES, name),
                               auth=owner.bearer)
        self.assertStatus(r, 200, 204)
        self.entry("version.yank", "native/%s@1.0.0" % name, who=owner.username)
        r = self.depot.request("PUT", "%s/%s/owners/%s" % (PACKAGES, name, friend.username),
                               auth=owner.bearer)
        self.assertStatus(r, 200, 201, 204)
        e = self.entry("owner.add", "native/%s" % name, who=owner.username)
        self.assertEqual(e["detail"], friend.username)
        secret, tname = self.make_token(owner.bearer, ["read"])
        self.entry("token.create", tname, who=owner.username)
        self.assertNotIn(secret, e["page"])

    # ---- who may read it ----------------------------------------------------------------------

    def test_only_admins_see_the_log(self):
        u = self.new_user()
        self.assertError(self.depot.login(u.username, "wrong-once"), 401)
        self.entry("auth.login_failed", u.username)  # the admin sees it
        w = WebClient(self.depot)
        self.assertEqual(w.login(u.username, u.password).status, 303)
        r = w.get("/admin")
        self.assertEqual(r.status, 403, r.describe())
        self.assertNotIn("Recent activity", r.text)
        self.assertNotIn("auth.login_failed", r.text)
        r = WebClient(self.depot).get("/admin")
        self.assertEqual(r.status, 303)
        self.assertTrue(r.headers["Location"].startswith("/login"))
        # ... and that refusal is itself written down
        self.entry("auth.forbidden", "GET /admin", who=u.username)
