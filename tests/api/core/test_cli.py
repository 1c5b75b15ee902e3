"""The admin CLI (`depot user ...`, `depot token ...`) against a running server's data dir."""

import time

from apitest import TOKEN_SECRET, DepotTestCase, format_time, parse_time


class AdminCLI(DepotTestCase):

    def ok(self, *args, input=None):
        p = self.depot.cli(*args, input=input)
        self.assertEqual(p.returncode, 0, "depot %s failed (%d):\n%s%s"
                         % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def fails(self, *args, input=None):
        p = self.depot.cli(*args, input=input)
        self.assertNotEqual(p.returncode, 0, "depot %s should fail:\n%s%s"
                            % (" ".join(args), p.stdout, p.stderr))
        self.assertTrue(p.stderr.strip(), "a failing command should say why on stderr")
        return p

    def test_user_add_then_login(self):
        u = self.cli_user(login=False)
        self.assertNotIn(u.password, self.depot.cli("user", "list").stdout)
        body = self.assertJSON(self.depot.login(u.username, u.password))
        self.assertUserShape(body["user"], u.username, u.email)
        self.assertIs(body["user"]["is_admin"], False)

    def test_user_add_admin(self):
        u = self.cli_user(admin=True)
        self.assertIs(self.assertJSON(self.depot.get("/api/v1/me", auth=u.bearer))["is_admin"],
                      True)

    def test_user_add_rejects_bad_input_and_duplicates(self):
        u = self.cli_user(login=False)
        self.fails("user", "add", u.username.upper(), "--email", "new-" + u.email,
                   "--password-stdin", input="correct horse\n")
        self.fails("user", "add", self.uniq("x"), "--email", u.email.upper(),
                   "--password-stdin", input="correct horse\n")
        self.fails("user", "add", "-bad", "--email", self.uniq("e") + "@example.com",
                   "--password-stdin", input="correct horse\n")
        self.fails("user", "add", self.uniq("x"), "--email", "not-an-email",
                   "--password-stdin", input="correct horse\n")
        self.fails("user", "add", self.uniq("x"), "--email", self.uniq("e") + "@example.com",
                   "--password-stdin", input="short\n")

    def test_user_list(self):
        a = self.cli_user(login=False)
        b = self.cli_user(login=False, admin=True)
        out = self.ok("user", "list").stdout
        for u in (a, b, self.admin):
            self.assertIn(u.username, out)

    def test_user_passwd(self):
        u = self.cli_user(login=False)
        self.ok("user", "passwd", u.username, "--password-stdin", input="brand new secret\n")
        self.assertError(self.depot.login(u.username, u.password), 401)
        self.assertJSON(self.depot.login(u.username, "brand new secret"))
        self.fails("user", "passwd", self.uniq("ghost"), "--password-stdin",
                   input="brand new secret\n")

    def test_user_disable_blocks_login_and_credentials(self):
        u = self.cli_user()
        secret, _ = self.make_token(u.bearer, ["read"])
        self.ok("user", "disable", u.username)
        self.assertError(self.depot.login(u.username, u.password), (401, 403))
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + secret), (401, 403))
        self.assertError(self.depot.get("/api/v1/me", auth=u.bearer), (401, 403))
        self.assertError(self.depot.get("/api/v1/me", auth=u.basic), (401, 403))
        self.fails("user", "disable", self.uniq("ghost"))

    def test_disabled_user_login_looks_like_a_wrong_password(self):
        u = self.cli_user(login=False)
        self.ok("user", "disable", u.username)
        a = self.depot.login(u.username, u.password)
        b = self.depot.login(u.username, "wrong password")
        self.assertError(a, (401, 403))
        if a.status == 401:
            self.assertEqual(a.body, b.body)

    def test_user_promote(self):
        u = self.cli_user()
        self.assertIs(self.assertJSON(self.depot.get("/api/v1/me", auth=u.bearer))["is_admin"],
                      False)
        self.assertError(self.depot.create_token(u.bearer, self.uniq("a"), ["admin"]), 403)
        self.ok("user", "promote", u.username)
        self.assertIs(self.assertJSON(self.depot.get("/api/v1/me", auth=u.bearer))["is_admin"],
                      True)
        self.assertJSON(self.depot.create_token(u.bearer, self.uniq("a"), ["admin"]), 201)
        self.fails("user", "promote", self.uniq("ghost"))

    def test_token_create_list_revoke(self):
        u = self.cli_user()
        p = self.ok("token", "create", u.username, "deploy", "--scopes", "read,publish")
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1, "token create should print one line: %r" % p.stdout)
        secret = lines[0].strip()
        self.assertRegex(secret, TOKEN_SECRET)
        me = self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + secret))
        self.assertEqual(me["username"], u.username)
        t = self.assertJSON(self.depot.get("/api/v1/tokens/deploy", auth=u.bearer))
        self.assertEqual(sorted(t["scopes"]), ["publish", "read"])
        out = self.ok("token", "list", u.username).stdout
        self.assertIn("deploy", out)
        self.assertNotIn(secret, out)
        self.assertNotIn(secret[12:], out)
        self.ok("token", "revoke", u.username, "deploy")
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + secret), 401)
        self.assertError(self.depot.get("/api/v1/tokens/deploy", auth=u.bearer), 404)
        self.assertNotIn("deploy", self.ok("token", "list", u.username).stdout)
        self.fails("token", "revoke", u.username, "deploy")

    def test_token_create_scopes_are_enforced(self):
        u = self.cli_user()
        secret = self.ok("token", "create", u.username, "ro", "--scopes", "read").stdout.strip()
        self.assertError(self.depot.create_token("Bearer " + secret, "more", ["publish"]), 403)

    def test_token_create_with_expiry(self):
        u = self.cli_user()
        when = format_time(time.time() + 40 * 86400)
        secret = self.ok("token", "create", u.username, "exp", "--scopes", "read",
                         "--expires", when).stdout.strip()
        t = self.assertJSON(self.depot.get("/api/v1/tokens/exp", auth=u.bearer))
        self.assertEqual(parse_time(t["expires_at"]), parse_time(when))
        self.assertJSON(self.depot.get("/api/v1/me", auth=secret))

    def test_token_create_rejects_bad_input(self):
        u = self.cli_user(login=False)
        self.fails("token", "create", self.uniq("ghost"), "t", "--scopes", "read")
        self.fails("token", "create", u.username, "t", "--scopes", "write")
        self.fails("token", "create", u.username, "bad name", "--scopes", "read")
        self.fails("token", "create", u.username, "t", "--scopes", "admin")  # not an admin
        self.fails("token", "create", u.username, "t", "--scopes", "read",
                   "--expires", "yesterday")
        self.ok("token", "create", u.username, "t", "--scopes", "read")
        self.fails("token", "create", u.username, "t", "--scopes", "read")

    def test_token_list_and_revoke_unknown_user(self):
        self.fails("token", "list", self.uniq("ghost"))
        self.fails("token", "revoke", self.uniq("ghost"), "x")
