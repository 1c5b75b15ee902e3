"""
test_web.py — the web dashboard over plain HTTP, as a browser would speak it: security and
caching headers on every page, the session cookie's flags, CSRF on every form and on the API
when the cookie is the credential, sanitized READMEs and links, page weight and server time,
owner actions (yank, npm deprecate, owners) with their confirmation step, the admin page,
--private, 404s, assets, and the mail flows (address verification and password reset) against a
local SMTP sink.

Run by tests/browser/run (make browser); each class starts its own depot.
"""

import os
import re
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
sys.path.insert(0, HERE)

from depot import Depot, bearer  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402
from webclient import WebClient, csrf_of, publish_native  # noqa: E402

PAGES = ["/", "/search", "/search?q=pad", "/register", "/login", "/packages/native/left-pad",
         "/packages/native/left-pad/versions", "/users/ann", "/password/forgot", "/nope-nope"]


class Base(unittest.TestCase):
    extra_args = []

    @classmethod
    def setUpClass(cls):
        cls.d = Depot(extra_args=cls.extra_args)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def status(self, r, want):
        self.assertEqual(r.status, want, r.describe(800))

    def owner(self, name="ann"):
        """A logged-in browser for a fresh user (the first user of a class is its admin)."""
        w = WebClient(self.d)
        r = w.register(name, "%s@example.com" % name)
        self.status(r, 303)
        return w


class Pages(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = WebClient(cls.d)
        assert w.register("ann", "ann@example.com").status == 303
        _, cls.token = w.create_token("ci")
        cls.ann = w
        readme = ("# left-pad\n\nPads *strings*.\n\n<script>alert('readme')</script>\n\n"
                  "<img src=x onerror=\"alert(1)\">\n\n[bad](javascript:alert(1)) "
                  "[worse](JAVASCRIPT:alert(1)) ![data](data:image/svg+xml;base64,PHN2Zz4=)\n\n"
                  "<a href=\"#\" onclick=\"alert(1)\">click</a>\n\n[good](https://example.com/ok)\n")
        for v in ("1.0.0", "1.1.0"):
            r = publish_native(cls.d, cls.token, "left-pad", v, readme=readme, keywords=["pad"],
                               homepage="https://example.com/left-pad")
            assert r.status == 201, r.describe()
        r = publish_native(cls.d, cls.token, "uses-pad", "0.1.0", deps={"left-pad": "^1.0"})
        assert r.status == 201, r.describe()

    def test_security_headers_on_every_page(self):
        for path in PAGES:
            for client in (WebClient(self.d), self.ann):
                r = client.get(path)
                self.assertIn(r.status, (200, 303, 404), r.describe())
                if r.status != 303:  # a logged-in browser is sent on from /register and /login
                    self.assertTrue(r.headers["Content-Type"].startswith("text/html"), path)
                csp = r.headers.get("Content-Security-Policy") or ""
                for part in ("default-src 'self'", "frame-ancestors 'none'", "script-src 'self'",
                             "object-src 'none'"):
                    self.assertIn(part, csp, path)
                self.assertNotIn("unsafe-inline", csp)
                self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff", path)
                self.assertTrue(r.headers.get("Referrer-Policy"), path)
                # No inline script anywhere: every <script> has a src on this origin.
                for tag in re.findall(r"<script[^>]*>", r.text):
                    self.assertRegex(tag, r'src="/static/[0-9a-f]+/app\.js"', path)
                self.assertNotIn(" style=", r.text, path)

    def test_caching(self):
        anon = WebClient(self.d)
        r = anon.get("/packages/native/left-pad")
        self.assertEqual(r.headers["Cache-Control"], "public, max-age=60")
        self.assertIn("Cookie", r.headers["Vary"])
        r = self.ann.get("/packages/native/left-pad")
        self.assertEqual(r.headers["Cache-Control"], "private, no-cache")
        for path in ("/account", "/login", "/register", "/admin"):
            r = self.ann.get(path) if path != "/login" else anon.get(path)
            self.assertEqual(r.headers.get("Cache-Control"), "no-store", path)

    def test_assets(self):
        home = WebClient(self.d).get("/")
        paths = re.findall(r'(?:href|src)="(/static/[0-9a-f]+/[a-z.]+)"', home.text)
        self.assertEqual(len(set(paths)), 3, paths)
        for p in set(paths):
            r = self.d.get(p)
            self.status(r, 200)
            self.assertEqual(r.headers["Cache-Control"], "public, max-age=31536000, immutable")
            etag = r.headers["ETag"]
            r2 = self.d.get(p, headers={"If-None-Match": etag})
            self.status(r2, 304)
        self.status(self.d.get("/favicon.ico"), 200)
        r = self.d.get("/static/0000/style.css")
        self.status(r, 200)
        self.assertEqual(r.headers["Cache-Control"], "public, max-age=300")
        self.status(self.d.get("/static/0000/nothing.css", headers={"Accept": "text/html"}), 404)

    def test_readme_is_sanitized(self):
        r = WebClient(self.d).get("/packages/native/left-pad")
        self.status(r, 200)
        m = re.search(r'<div class="readme">(.*?)</div></section>', r.text, re.S)
        self.assertTrue(m, "no README")
        html = m.group(1)
        self.assertIn("<em>strings</em>", html)
        self.assertIn('href="https://example.com/ok"', html)
        low = html.lower()
        for bad in ("<script", "onerror", "onclick", "javascript:", 'src="data:', "<img src=x"):
            self.assertNotIn(bad, low)
        self.assertIn("bad", html)  # the text of a refused link stays

    def test_package_page_content(self):
        r = WebClient(self.d).get("/packages/native/left-pad")
        t = r.text
        self.assertIn("<h1>left-pad", t)
        self.assertIn("depot install left-pad@^1.1.0 --registry %s" % self.d.url, t)
        self.assertIn('<svg class="chart"', t)
        self.assertIn("sha256:", t)
        self.assertIn('href="/packages/native/uses-pad"', t)  # dependents
        self.assertIn('href="/users/ann"', t)
        self.assertIn('href="https://example.com/left-pad"', t)
        self.assertIn('/search?keyword=pad', t)
        self.assertNotIn("Owner actions", t)
        self.assertNotIn("/confirm?", t)
        r = WebClient(self.d).get("/packages/native/uses-pad")
        self.assertIn('href="/packages/native/left-pad"', r.text)  # dependencies
        self.status(WebClient(self.d).get("/packages/native/nothing-here"), 404)
        self.status(WebClient(self.d).get("/packages/maven/left-pad"), 404)

    def test_page_weight_and_time(self):
        big = "# big\n\n" + ("Lorem ipsum dolor sit amet, *consectetur* adipiscing elit.\n\n" * 8000)
        r = publish_native(self.d, self.token, "big-readme", "1.0.0", readme=big)
        self.status(r, 201)
        page = WebClient(self.d).get("/packages/native/big-readme")
        self.status(page, 200)
        self.assertIn("The README is longer than this page shows", page.text)
        total = len(page.body)
        for p in set(re.findall(r'(?:href|src)="(/static/[0-9a-f]+/[a-z]+\.(?:css|js))"', page.text)):
            total += len(self.d.get(p).body)
        self.assertLess(total, 100 * 1000, "HTML+CSS+JS of a package page")
        # Server time, warm: the access log's duration of the package page.
        for _ in range(5):
            WebClient(self.d).get("/packages/native/left-pad")
        time.sleep(0.2)
        durs = [float(e["duration_ms"]) for e in self.d.access_log()
                if e.get("path") == "/packages/native/left-pad"][-5:]
        self.assertLess(sorted(durs)[len(durs) // 2], 10.0, durs)

    def test_search(self):
        anon = WebClient(self.d)
        r = anon.get("/search?q=pad")
        self.assertIn('href="/packages/native/left-pad"', r.text)
        self.assertRegex(r.text, r"\d+ packages? found")
        r = anon.get("/search?q=pad&ecosystem=npm")
        self.assertNotIn('href="/packages/native/left-pad"', r.text)
        r = anon.get("/search?keyword=pad")
        self.assertIn('href="/packages/native/left-pad"', r.text)
        r = anon.get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        self.status(r, 200)
        self.assertNotIn("<script>alert", r.text)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", r.text)
        self.status(anon.get("/search?q=" + "x" * 300), 400)

    def test_session_cookie_flags(self):
        w = WebClient(self.d)
        w.register("cookie-flags", "cf@example.com")
        line = [c for c in w.set_cookie_lines if c.startswith("depot_session=")][0]
        for flag in ("HttpOnly", "SameSite=Lax", "Path=/"):
            self.assertIn(flag, line)
        self.assertNotIn("Secure", line)  # http:// base URL

    def test_csrf_on_forms(self):
        w = self.owner("csrf-user")
        # No token, a wrong token, a token of another session, another Origin: all refused.
        r = w.post("/account/token-create", {"name": "x", "scope": "read"})
        self.status(r, 403)
        r = w.post("/account/token-create", {"name": "x", "scope": "read"}, csrf="nope")
        self.status(r, 403)
        r = w.post("/account/token-create", {"name": "x", "scope": "read"}, csrf=csrf_of(self.ann.get("/account")))
        self.status(r, 403)
        page = w.get("/account")
        r = w.post("/account/token-create", {"name": "x", "scope": "read"}, csrf_from=page,
                   headers={"Origin": "https://evil.example"})
        self.status(r, 403)
        r = w.post("/account/token-create", {"name": "x", "scope": "read"}, csrf_from=page,
                   headers={"Origin": self.d.url})
        self.status(r, 201)
        # Forms before login: the depot_csrf cookie and its HMAC must match.
        anon = WebClient(self.d)
        r = anon.post("/login", {"login": "ann", "password": "password123"})
        self.status(r, 403)
        other = WebClient(self.d)
        tok = csrf_of(other.get("/login"))
        r = anon.post("/login", {"login": "ann", "password": "password123"}, csrf=tok)
        self.status(r, 403)  # a token made for another browser's cookie
        # Logout needs the session's token too.
        r = w.post("/logout", {})
        self.status(r, 403)
        self.status(w.get("/account"), 200)
        # Forms must be forms.
        r = self.d.request("POST", "/login", body="{}", headers={"Content-Type": "application/json"})
        self.status(r, 415)

    def test_api_with_cookie_needs_csrf(self):
        w = self.owner("api-cookie")
        # Reads work with the cookie.
        r = self.d.get("/api/v1/me", headers={"Cookie": "depot_session=" + w.cookies["depot_session"]})
        self.status(r, 200)
        # Writes with the cookie alone are anonymous.
        h = {"Cookie": "depot_session=" + w.cookies["depot_session"]}
        r = self.d.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers=h)
        self.status(r, 401)
        h["X-CSRF-Token"] = "wrong"
        self.status(self.d.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers=h), 401)
        m = re.search(r'<meta name="csrf-token" content="([^"]+)">', w.get("/").text)
        h["X-CSRF-Token"] = m.group(1)
        self.status(self.d.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers=h), 201)
        # A stale cookie is ignored (anonymous), and the page clears it.
        r = self.d.get("/", headers={"Cookie": "depot_session=eyJ.eyJ.sig", "Accept": "text/html"})
        self.status(r, 200)
        self.assertTrue(any(c.startswith("depot_session=;") for c in r.headers.get_all("Set-Cookie")))

    def test_login_logout(self):
        self.owner("lola")
        w = WebClient(self.d)
        r = w.login("lola", "wrong-password")
        self.status(r, 401)
        self.assertIn("Wrong username or password", r.text)
        r = w.login("lola")
        self.status(r, 303)
        self.assertEqual(r.headers["Location"], "/account")
        session = w.cookies["depot_session"]
        page = w.get("/account")
        self.assertIn("lola", page.text)
        r = w.post("/logout", {}, csrf_from=page)
        self.status(r, 303)
        self.assertNotIn("depot_session", w.cookies)
        # The session is revoked on the server too, not just forgotten by the browser.
        r = self.d.get("/api/v1/me", headers={"Cookie": "depot_session=" + session})
        self.status(r, 401)
        # next= only goes to paths on this site.
        page = w.get("/login?next=//evil.example/x")
        r = w.post("/login", {"login": "lola", "password": "password123", "next": "//evil.example/x"},
                   csrf_from=page)
        self.assertEqual(r.headers["Location"], "/account")

    def test_tokens_keys_password(self):
        w = self.owner("tina")
        r, secret = w.create_token("laptop", scopes=("read", "publish:npm"))
        self.status(r, 201)
        self.assertTrue(secret.startswith("dpt_"))
        self.status(self.d.get("/api/v1/me", auth=bearer(secret)), 200)
        page = w.get("/account")
        self.assertNotIn(secret, page.text)  # shown once
        self.assertIn("laptop", page.text)
        r = w.post("/account/token-revoke", {"name": "laptop"}, csrf_from=page)
        self.status(r, 303)
        self.status(self.d.get("/api/v1/me", auth=bearer(secret)), 401)
        # A scope the user does not hold is refused with the reason.
        r, s = w.create_token("adm", scopes=("admin",))
        self.assertIsNone(s)
        self.assertIn('class="alert"', r.text)
        # Signing keys.
        import base64
        pub = base64.b64encode(os.urandom(32)).decode()
        r = w.submit("/account", "/account/key-add", {"name": "laptop", "public_key": pub})
        self.status(r, 303)
        self.assertIn("laptop", w.get("/account").text)
        # Password change.
        r = w.submit("/account", "/account/password", {"current": "wrong", "password": "new-password-1"})
        self.status(r, 401)
        other = WebClient(self.d)  # another browser, and a session token of the API
        self.status(other.login("tina"), 303)
        jwt = self.d.login("tina", "password123").json()["token"]
        self.status(self.d.get("/api/v1/me", auth=bearer(jwt)), 200)
        r = w.submit("/account", "/account/password", {"current": "password123", "password": "new-password-1"})
        self.status(r, 303)
        # this browser stays signed in; every other session of the account is over
        self.assertIn("tina", w.get("/account").text)
        self.status(w.get("/account"), 200)
        self.assertIn(other.get("/account").status, (302, 303))
        r = self.d.get("/api/v1/me", auth=bearer(jwt))
        self.status(r, 401)
        self.assertIn("password was changed", r.text)
        self.status(WebClient(self.d).login("tina", "new-password-1"), 303)

    def test_yank_and_owners_from_the_ui(self):
        w = self.owner("olga")
        _, tok = w.create_token("p")
        self.status(publish_native(self.d, tok, "olga-lib", "1.0.0"), 201)
        page = w.get("/packages/native/olga-lib")
        self.assertIn("/packages/native/olga-lib/confirm?action=yank&amp;version=1.0.0", page.text)
        confirm = w.get("/packages/native/olga-lib/confirm?action=yank&version=1.0.0")
        self.status(confirm, 200)
        self.assertIn("Yank olga-lib 1.0.0?", confirm.text)
        r = w.post("/packages/native/olga-lib/action", {"action": "yank", "version": "1.0.0"}, csrf_from=confirm)
        self.status(r, 303)
        v = self.d.get("/api/v1/packages/olga-lib/versions/1.0.0").json()
        self.assertTrue(v["yanked"])
        # Someone else cannot, even with a session and a valid token.
        mallory = self.owner("mallory")
        self.status(mallory.get("/packages/native/olga-lib/confirm?action=unyank&version=1.0.0"), 403)
        page = mallory.get("/account")
        r = mallory.post("/packages/native/olga-lib/action", {"action": "unyank", "version": "1.0.0"},
                         csrf_from=page)
        self.status(r, 403)
        # Owners: add, then remove.
        r = w.post("/packages/native/olga-lib/action", {"action": "owner-add", "user": "mallory"},
                   csrf_from=w.get("/packages/native/olga-lib/confirm?action=owner-add&user=mallory"))
        self.status(r, 303)
        owners = [o["username"] for o in self.d.get("/api/v1/packages/olga-lib/owners").json()["owners"]]
        self.assertEqual(sorted(owners), ["mallory", "olga"])
        r = w.post("/packages/native/olga-lib/action", {"action": "owner-remove", "user": "mallory"},
                   csrf_from=w.get("/account"))
        self.status(r, 303)
        # A change the ecosystem does not have is refused.
        self.status(w.get("/packages/native/olga-lib/confirm?action=retire&version=1.0.0"), 404)

    def test_npm_deprecate_from_the_ui(self):
        from npm.npmtest import publish_doc
        w = self.owner("nina")
        _, tok = w.create_token("npm", scopes=("read", "publish"))
        r = self.d.request("PUT", "/npm/nina-lib", json=publish_doc("nina-lib", "1.0.0"), auth=bearer(tok))
        self.status(r, 201)
        page = w.get("/packages/npm/nina-lib")
        self.status(page, 200)
        self.assertIn("npm install nina-lib --registry %s/npm/" % self.d.url, page.text)
        r = w.post("/packages/npm/nina-lib/action", {"action": "deprecate", "version": "1.0.0",
                                                     "message": "use nina-lib2"},
                   csrf_from=w.get("/packages/npm/nina-lib/confirm?action=deprecate&version=1.0.0"))
        self.status(r, 303)
        doc = self.d.get("/npm/nina-lib").json()
        self.assertEqual(doc["versions"]["1.0.0"].get("deprecated"), "use nina-lib2")
        self.assertIn("deprecated", w.get("/packages/npm/nina-lib").text)

    def test_hex_retire_from_the_ui(self):
        from hex.hextest import hex_tarball
        w = self.owner("hexa")
        _, tok = w.create_token("hex", scopes=("read", "publish"))
        r = self.d.request("POST", "/hex/api/publish", body=hex_tarball("hexa_lib", "1.2.3"),
                           headers={"Authorization": tok, "Content-Type": "application/octet-stream"})
        self.status(r, 201)
        page = w.get("/packages/hex/hexa_lib")
        self.assertIn('{:hexa_lib, &quot;~&gt; 1.2&quot;, repo: &quot;depot&quot;}', page.text)
        confirm = w.get("/packages/hex/hexa_lib/confirm?action=retire&version=1.2.3")
        self.status(confirm, 200)
        r = w.post("/packages/hex/hexa_lib/action", {"action": "retire", "version": "1.2.3", "reason": "security",
                                                     "message": "CVE-1"}, csrf_from=confirm)
        self.status(r, 303)
        self.assertIn("retired: security", w.get("/packages/hex/hexa_lib").text)
        rel = self.d.get("/hex/api/packages/hexa_lib/releases/1.2.3", headers={"Accept": "application/json"})
        self.assertEqual(rel.json()["retirement"]["reason"], "security", rel.describe())

    def test_pub_retract_and_discontinue_from_the_ui(self):
        from pub.dartpub import DartPub, package
        w = self.owner("pubby")
        _, tok = w.create_token("pub", scopes=("read", "publish"))
        res = DartPub(self.d, self.d.url + "/pub", token=tok).publish(package("pubby_lib", "1.0.0"), "pubby_lib")
        self.assertEqual(res.exit, 0, res)
        page = w.get("/packages/pub/pubby_lib")
        self.assertIn("hosted: %s/pub" % self.d.url, page.text)
        r = w.post("/packages/pub/pubby_lib/action", {"action": "retract", "version": "1.0.0"},
                   csrf_from=w.get("/packages/pub/pubby_lib/confirm?action=retract&version=1.0.0"))
        self.status(r, 303)
        listing = self.d.get("/pub/api/packages/pubby_lib").json()
        self.assertTrue(listing["versions"][0].get("retracted"), listing)
        r = w.post("/packages/pub/pubby_lib/action", {"action": "discontinue", "replaced_by": "pubby_lib2"},
                   csrf_from=w.get("/packages/pub/pubby_lib/confirm?action=discontinue"))
        self.status(r, 303)
        listing = self.d.get("/pub/api/packages/pubby_lib").json()
        self.assertTrue(listing.get("isDiscontinued"), listing)
        self.assertEqual(listing.get("replacedBy"), "pubby_lib2")
        self.assertIn("discontinued", w.get("/packages/pub/pubby_lib").text)

    def test_admin(self):
        r = self.ann.get("/admin")
        self.status(r, 200)
        for part in ("Health and storage", "Users", "Recent activity", "user.register"):
            self.assertIn(part, r.text)
        victim = self.owner("victim")
        self.status(victim.get("/admin"), 403)
        confirm = self.ann.get("/admin?action=disable&user=victim")
        self.assertIn("Disable victim?", confirm.text)
        r = self.ann.post("/admin/user", {"action": "disable", "user": "victim"}, csrf_from=confirm)
        self.status(r, 303)
        # The victim's session stops working at once.
        r = victim.get("/account")
        self.status(r, 303)
        self.assertTrue(r.headers["Location"].startswith("/login"))
        r = self.ann.post("/admin/user", {"action": "enable", "user": "victim"}, csrf_from=self.ann.get("/admin"))
        self.status(r, 303)
        # Admins cannot disable themselves here.
        r = self.ann.post("/admin/user", {"action": "disable", "user": "ann"}, csrf_from=self.ann.get("/admin"))
        self.status(r, 409)

    def test_not_found(self):
        r = self.d.get("/no/such/page", headers={"Accept": "text/html,application/xhtml+xml"})
        self.status(r, 404)
        self.assertIn("Page not found", r.text)
        r = self.d.get("/api/v1/no-such")
        self.status(r, 404)
        self.assertEqual(r.json()["error"]["code"], "not_found")
        self.status(self.d.get("/users/nobody-here"), 404)


class Private(Base):
    extra_args = ["--private"]

    def test_private_sends_browsers_to_login(self):
        r = self.d.get("/", headers={"Accept": "text/html"})
        self.status(r, 303)
        self.assertEqual(r.headers["Location"], "/login?next=%2F")
        self.status(WebClient(self.d).get("/login"), 200)
        w = self.owner("priv")
        self.status(w.get("/"), 200)
        self.status(w.get("/search"), 200)


class HttpsCookies(Base):
    extra_args = ["--base-url", "https://depot.example.com"]

    def test_secure_flag(self):
        w = WebClient(self.d)
        r = w.register("sec", "sec@example.com")
        self.status(r, 303)
        line = [c for c in w.set_cookie_lines if c.startswith("depot_session=")][0]
        self.assertIn("Secure", line)


class Mail(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = SmtpSink().start()
        cls.d = Depot(extra_args=["--smtp-url", "smtp://127.0.0.1:%d" % cls.sink.port,
                                  "--smtp-from", "registry@example.com", "--server-name", "Test Depot"])
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        cls.sink.stop()

    def link(self, msg, path):
        m = re.search(re.escape(self.d.url + path) + r"\?token=([A-Za-z0-9_-]+)", msg.body)
        self.assertTrue(m, msg.body)
        return path + "?token=" + m.group(1)

    def test_verification_mail(self):
        w = WebClient(self.d)
        self.assertEqual(w.register("vera", "vera@example.com").status, 303)
        msg = self.sink.wait_for(lambda m: "vera@example.com" in m.rcpt and "Confirm" in m.subject)
        self.assertIsNotNone(msg, "no verification mail")
        self.assertEqual(msg.mail_from, "registry@example.com")
        self.assertIn("Test Depot", msg.subject)
        self.assertIn("not verified", w.get("/account").text)
        link = self.link(msg, "/email/verify")
        page = w.get(link)
        self.assertEqual(page.status, 200, page.describe())
        self.assertIn("vera@example.com", page.text)
        token = urllib.parse.parse_qs(link.split("?", 1)[1])["token"][0]
        r = w.post("/email/verify", {"token": token}, csrf_from=page)
        self.assertEqual(r.status, 303, r.describe())
        self.assertIn("verified", w.get("/account").text)
        # Once only.
        self.assertEqual(w.get(link).status, 404)
        r = w.post("/email/verify", {"token": token}, csrf_from=w.get("/account"))
        self.assertEqual(r.status, 404)

    def test_resend_replaces_the_old_link(self):
        w = WebClient(self.d)
        w.register("rita", "rita@example.com")
        first = self.sink.wait_for(lambda m: "rita@example.com" in m.rcpt)
        r = w.submit("/account", "/account/verify-send", {})
        self.assertEqual(r.status, 303, r.describe())
        second = self.sink.wait_for(lambda m: "rita@example.com" in m.rcpt and m is not first)
        self.assertIsNotNone(second)
        self.assertEqual(w.get(self.link(first, "/email/verify")).status, 404)
        self.assertEqual(w.get(self.link(second, "/email/verify")).status, 200)

    def test_password_reset(self):
        WebClient(self.d).register("pete", "pete@example.com")
        anon = WebClient(self.d)
        r = anon.submit("/password/forgot", "/password/forgot", {"login": "pete"})
        self.assertEqual(r.status, 200)
        self.assertIn("Check your mail", r.text)
        msg = self.sink.wait_for(lambda m: "pete@example.com" in m.rcpt and "Reset" in m.subject)
        self.assertIsNotNone(msg, "no reset mail")
        link = self.link(msg, "/password/reset")
        token = urllib.parse.parse_qs(link.split("?", 1)[1])["token"][0]
        page = anon.get(link)
        self.assertEqual(page.status, 200, page.describe())
        # A password that breaks the rules does not spend the link.
        r = anon.post("/password/reset", {"token": token, "password": "short"}, csrf_from=page)
        self.assertEqual(r.status, 422)
        r = anon.post("/password/reset", {"token": token, "password": "brand-new-pw"}, csrf_from=page)
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(r.headers["Location"], "/login?done=reset")
        self.assertEqual(WebClient(self.d).login("pete", "brand-new-pw").status, 303)
        self.assertEqual(WebClient(self.d).login("pete", "password123").status, 401)
        # Once only.
        self.assertEqual(anon.get(link).status, 404)
        r = anon.post("/password/reset", {"token": token, "password": "another-pw-1"}, csrf_from=page)
        self.assertEqual(r.status, 404)

    def test_unknown_account_gets_the_same_answer_and_no_mail(self):
        self.sink.clear()
        r = WebClient(self.d).submit("/password/forgot", "/password/forgot", {"login": "nobody@example.com"})
        self.assertEqual(r.status, 200)
        self.assertIn("Check your mail", r.text)
        self.assertIsNone(self.sink.wait_for(lambda m: True, timeout=1.0))


if __name__ == "__main__":
    unittest.main()
