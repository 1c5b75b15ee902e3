"""Security headers, route by route. The web routes come from the server's own table (`depot routes
--json`): every dashboard page (anonymous, a user, an admin; its 403, 404 and redirect answers
too, and the refusal of every form posted without its CSRF token) carries a Content-Security-
Policy without inline script and with frame-ancestors 'none', X-Content-Type-Options: nosniff,
a Referrer-Policy and X-Frame-Options. Every docs route serves uploaded pages sandboxed (CSP
sandbox without allow-same-origin), errors and redirects included. Everything else (JSON, registry
files, tarballs, their errors) is nosniff with a CSP that runs nothing and frames nothing. A web
GET route this test does not know fails it, so a new page cannot skip the check."""

import json
import os
import re
import subprocess
import sys

from apitest import depot_bin
from native.nativetest import PACKAGES, NativeTestCase, targz

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "browser"))
from webclient import WebClient  # noqa: E402

DASHBOARD_CSP = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                 "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'")
REFERRER = ("no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin")


def route_table():
    p = subprocess.run([depot_bin(), "routes", "--json"], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise AssertionError("depot routes --json failed: %s" % p.stderr)
    return json.loads(p.stdout)


class SecurityHeaders(NativeTestCase):

    @staticmethod
    def invariant_problems(r):
        # The dashboard's errors are HTML pages and npm's and pub's are in their clients'
        # shapes: only the request id is common to every answer walked here.
        return [] if r.headers.get("X-Request-Id") else ["no X-Request-Id header"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.depot
        cls.routes = route_table()
        cls.pkg = cls.uniq("hdr")
        tb = targz({"src/main.txt": "x\n", "README.md": "# hdr\n\n<script>alert(1)</script>\n"})
        r = d.publish(tb, metadata={"name": cls.pkg, "version": "1.0.0", "description": "d",
                                    "license": "MIT"}, auth=cls.admin.bearer)
        assert r.status == 201, r.describe()
        site = targz({"index.html": "<!doctype html><script src=app.js></script><p>docs",
                      "app.js": "document.cookie", "logo.svg": "<svg xmlns='http://www.w3.org/2000/"
                      "svg'><script>alert(1)</script></svg>", "page.html": "<p>x"})
        r = d.request("POST", "%s/%s/versions/1.0.0/docs" % (PACKAGES, cls.pkg), body=site,
                      headers={"Content-Type": "application/gzip"}, auth=cls.admin.bearer)
        assert r.status == 201, r.describe()
        cls.admin_web = WebClient(d)
        r = cls.admin_web.login(cls.admin.username, cls.admin.password)
        assert r.status == 303, r.describe()
        cls.user = cls.register_user(prefix="plain")
        cls.user_web = WebClient(d)
        r = cls.user_web.login(cls.user.username, cls.user.password)
        assert r.status == 303, r.describe()

    # ---- checks -----------------------------------------------------------------------------

    def assertDashboardHeaders(self, r, what):
        csp = r.headers.get("Content-Security-Policy") or ""
        for part in DASHBOARD_CSP:
            self.assertIn(part, csp, "%s: CSP %r" % (what, csp))
        self.assertNotIn("unsafe-inline", csp, what)
        self.assertNotIn("unsafe-eval", csp, what)
        self.assertNotIn("sandbox", csp, "%s: the dashboard is not sandboxed, it is locked down" % what)
        self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff", what)
        self.assertIn(r.headers.get("Referrer-Policy"), REFERRER, what)
        self.assertEqual(r.headers.get("X-Frame-Options"), "DENY", what)
        self.assertEqual(len(r.headers.get_all("Content-Security-Policy")), 1, what)

    def assertSandboxed(self, r, what):
        csp = r.headers.get_all("Content-Security-Policy")
        self.assertEqual(len(csp), 1, "%s: one policy, got %r" % (what, csp))
        self.assertTrue(csp[0].startswith("sandbox"), "%s: CSP %r" % (what, csp[0]))
        self.assertNotIn("allow-same-origin", csp[0], what)
        self.assertNotIn("allow-top-navigation", csp[0], what)
        self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff", what)
        self.assertIn(r.headers.get("Referrer-Policy"), REFERRER, what)

    def assertLockedDown(self, r, what):
        csp = r.headers.get_all("Content-Security-Policy")
        self.assertEqual(len(csp), 1, "%s: one policy, got %r" % (what, csp))
        for part in ("default-src 'none'", "frame-ancestors 'none'", "sandbox"):
            self.assertIn(part, csp[0], what)
        self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff", what)

    # ---- the dashboard ----------------------------------------------------------------------

    def page_paths(self, pattern):
        """Concrete paths for one web GET route (several where answers differ)."""
        pkg, admin = self.pkg, self.admin.username
        known = {
            "/": ["/"],
            "/search": ["/search", "/search?q=" + pkg, "/search?q=%3Cscript%3E"],
            "/packages/{ecosystem}/{rest*}": ["/packages/native/" + pkg,
                                              "/packages/native/%s/versions" % pkg,
                                              "/packages/native/%s/1.0.0" % pkg,
                                              "/packages/native/no-such-" + pkg,
                                              "/packages/nope/x"],
            "/users/{username}": ["/users/" + admin, "/users/no-such-user-here"],
            "/register": ["/register"],
            "/login": ["/login", "/login?next=/admin"],
            "/account": ["/account"],
            "/password/forgot": ["/password/forgot"],
            "/password/reset": ["/password/reset", "/password/reset?token=not-a-token"],
            "/email/verify": ["/email/verify", "/email/verify?token=not-a-token"],
            "/admin": ["/admin"],
        }
        return known.get(pattern)

    def test_every_dashboard_page(self):
        web_gets = [r["pattern"] for r in self.routes
                    if r["front"] == "web" and r["method"] == "GET"
                    and r["pattern"] not in ("/static/{version}/{file}", "/favicon.ico")]
        self.assertGreater(len(web_gets), 8)
        clients = (("anonymous", WebClient(self.depot)), ("user", self.user_web),
                   ("admin", self.admin_web))
        seen = set()
        for pattern in web_gets:
            paths = self.page_paths(pattern)
            self.assertIsNotNone(paths, "a web route this test does not know: GET %s; add it to "
                                 "page_paths" % pattern)
            for path in paths:
                for who, w in clients:
                    r = w.get(path)
                    what = "GET %s as %s -> %d" % (path, who, r.status)
                    self.assertIn(r.status, (200, 303, 400, 403, 404), what)
                    seen.add(r.status)
                    self.assertDashboardHeaders(r, what)
        # The answers walked include pages, redirects and refusals.
        for st in (200, 303, 403, 404):
            self.assertIn(st, seen)
        # A path no route has, from a browser: the HTML 404.
        r = WebClient(self.depot).get("/no/such/page")
        self.assertEqual(r.status, 404)
        self.assertDashboardHeaders(r, "GET /no/such/page")

    def test_form_refusals_and_failed_login(self):
        web_posts = [r["pattern"] for r in self.routes
                     if r["front"] == "web" and r["method"] == "POST"]
        self.assertGreater(len(web_posts), 5)
        fill = {"{ecosystem}": "native", "{rest*}": self.pkg + "/action", "{action}": "token-create"}
        for pattern in web_posts:
            path = pattern
            for k, v in fill.items():
                path = path.replace(k, v)
            r = self.admin_web.post(path, {"x": "1"})  # no CSRF token
            what = "POST %s without CSRF -> %d" % (path, r.status)
            self.assertEqual(r.status, 403, what)
            self.assertDashboardHeaders(r, what)
        w = WebClient(self.depot)
        r = w.login(self.user.username, "wrong password")
        self.assertEqual(r.status, 401, r.describe())
        self.assertDashboardHeaders(r, "failed login")

    def test_assets_are_nosniff(self):
        page = WebClient(self.depot).get("/")
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
        self.assertTrue(assets, "the home page links its assets")
        for path in assets + ["/favicon.ico"]:
            r = self.depot.get(path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff", path)

    # ---- hosted docs ------------------------------------------------------------------------

    def test_every_docs_route_is_sandboxed(self):
        pkg = self.pkg
        base = "/docs/native/" + pkg
        docs_gets = [r["pattern"] for r in self.routes
                     if r["front"] == "docs" and r["method"] == "GET"]
        paths = {
            "/docs/{ecosystem}/{name}": [base, "/docs/native/no-such-" + pkg],
            "/docs/{ecosystem}/{name}/": [base + "/"],
            "/docs/{ecosystem}/{name}/{version}": [base + "/1.0.0", base + "/9.9.9"],
            "/docs/{ecosystem}/{name}/{version}/": [base + "/1.0.0/"],
            "/docs/{ecosystem}/{name}/{version}/{path*}": [
                base + "/1.0.0/index.html", base + "/1.0.0/app.js", base + "/1.0.0/logo.svg",
                base + "/1.0.0/page.html", base + "/1.0.0/missing.html",
                base + "/1.0.0/%2e%2e/x"],
        }
        statuses = set()
        for pattern in docs_gets:
            self.assertIn(pattern, paths, "a docs route this test does not know: GET " + pattern)
            for path in paths[pattern]:
                for who, auth in (("anonymous", None), ("admin", self.admin.bearer)):
                    r = self.depot.get(path, auth=auth)
                    what = "GET %s as %s -> %d" % (path, who, r.status)
                    statuses.add(r.status)
                    self.assertSandboxed(r, what)
                    if r.status == 200:
                        self.assertNotIn("Set-Cookie", r.headers, what)
        for st in (200, 301, 302, 404):
            self.assertIn(st, statuses)

    # ---- everything else --------------------------------------------------------------------

    def test_api_and_registry_answers_are_locked_down(self):
        pkg = self.pkg
        cases = [
            ("GET", "/health", None),
            ("GET", "/api/v1/openapi.json", None),
            ("GET", "%s/%s" % (PACKAGES, pkg), None),
            ("GET", "%s/%s/1.0.0/download" % (PACKAGES, pkg), None),
            ("GET", "%s/no-such-%s" % (PACKAGES, pkg), None),
            ("GET", "/api/v1/me", None),
            ("GET", "/api/v1/me", "Bearer not-a-token"),
            ("GET", "/hex/repo/names", None),
            ("GET", "/npm/no-such-" + pkg, None),
            ("GET", "/pub/api/packages/no_such_" + pkg.replace("-", "_"), None),
            ("GET", "/api/v1/no/such/route", None),
        ]
        for method, path, auth in cases:
            r = self.depot.request(method, path, auth=auth)
            self.assertLockedDown(r, "%s %s -> %d" % (method, path, r.status))
