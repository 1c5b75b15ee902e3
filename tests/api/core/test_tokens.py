"""API tokens: create (secret shown once), list, get, delete, names, scopes, expiry, who may
manage them, revocation, last_used_at."""

import os
import time

from apitest import TOKEN_SECRET, DepotTestCase, format_time, parse_time

TOKENS = "/api/v1/tokens"


class Tokens(DepotTestCase):

    def setUp(self):
        super().setUp()
        self.user = self.new_user()

    def create(self, name=None, scopes=("read",), auth=None, **extra):
        body = {"name": self.uniq("t") if name is None else name, "scopes": list(scopes)}
        body.update(extra)
        return self.depot.post(TOKENS, json=body, auth=auth or self.user.bearer)

    def test_create_shows_the_secret_once(self):
        r = self.create("ci-main", ["read", "publish"])
        t = self.assertJSON(r, 201)
        self.assertTokenShape(t, with_secret=True)
        self.assertEqual(t["name"], "ci-main")
        self.assertEqual(sorted(t["scopes"]), ["publish", "read"])
        self.assertIsNone(t["expires_at"])
        self.assertIsNone(t["last_used_at"])
        secret = t["token"]
        self.assertRegex(secret, TOKEN_SECRET)
        self.assertTrue(t["prefix"] and secret.startswith(t["prefix"]),
                        "prefix %r should begin the secret" % t["prefix"])
        self.assertLess(len(t["prefix"]), len(secret) - 16, "the prefix should not be most of "
                        "the secret")
        listing = self.depot.get(TOKENS, auth=self.user.bearer)
        got = self.depot.get(TOKENS + "/ci-main", auth=self.user.bearer)
        for r2 in (listing, got):
            self.assertStatus(r2, 200)
            self.assertNotIn(secret, r2.text)
            self.assertNotIn(secret[len(t["prefix"]):], r2.text)
        items = self.assertJSON(listing)["tokens"]
        self.assertEqual([x["name"] for x in items], ["ci-main"])
        self.assertTokenShape(items[0])
        one = self.assertJSON(got)
        self.assertTokenShape(one)
        self.assertEqual(one["prefix"], t["prefix"])
        self.assertEqual(one["created_at"], t["created_at"])

    def test_secrets_are_distinct(self):
        a = self.assertJSON(self.create(), 201)["token"]
        b = self.assertJSON(self.create(), 201)["token"]
        self.assertNotEqual(a, b)

    def test_list_shows_only_own_tokens(self):
        other = self.new_user()
        self.assertJSON(self.create("mine"), 201)
        self.assertJSON(self.create("theirs", auth=other.bearer), 201)
        names = [x["name"] for x in
                 self.assertJSON(self.depot.get(TOKENS, auth=self.user.bearer))["tokens"]]
        self.assertEqual(names, ["mine"])
        self.assertError(self.depot.get(TOKENS + "/theirs", auth=self.user.bearer), 404)
        self.assertError(self.depot.delete(TOKENS + "/theirs", auth=self.user.bearer), 404)
        self.assertJSON(self.depot.get(TOKENS + "/theirs", auth=other.bearer))

    def test_same_name_for_two_users_is_fine(self):
        other = self.new_user()
        self.assertJSON(self.create("shared"), 201)
        self.assertJSON(self.create("shared", auth=other.bearer), 201)

    def test_duplicate_name_is_409(self):
        self.assertJSON(self.create("dup"), 201)
        self.assertError(self.create("dup"), 409)

    def test_delete(self):
        secret = self.assertJSON(self.create("gone"), 201)["token"]
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + secret))
        r = self.depot.delete(TOKENS + "/gone", auth=self.user.bearer)
        self.assertStatus(r, 204)
        self.assertEqual(r.body, b"")
        self.assertError(self.depot.get(TOKENS + "/gone", auth=self.user.bearer), 404)
        self.assertError(self.depot.delete(TOKENS + "/gone", auth=self.user.bearer), 404)
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + secret), 401)
        self.assertError(self.depot.get("/api/v1/me", auth=secret), 401)
        # the name is free again
        self.assertJSON(self.create("gone"), 201)

    def test_unknown_token_is_404(self):
        self.assertError(self.depot.get(TOKENS + "/nosuch", auth=self.user.bearer), 404)

    def test_bad_names_are_422(self):
        for name in ("", ".dot", "-dash", "_u", "a" * 65, "has space", "sl/ash", "col:on",
                     "\u00e9t\u00e9"):
            with self.subTest(name=name):
                self.assertError(self.create(name), 422, field="name")

    def test_edge_valid_names(self):
        for name in ("a", "A1.b_c-d", ("z" + self.uniq("n")).ljust(64, "9")):
            with self.subTest(name=name):
                self.assertJSON(self.create(name), 201)

    def test_bad_bodies_are_400(self):
        for body in ({"scopes": ["read"]}, {"name": self.uniq("t")},
                     {"name": 5, "scopes": ["read"]}, {"name": self.uniq("t"), "scopes": "read"},
                     {"name": self.uniq("t"), "scopes": [1]},
                     {"name": self.uniq("t"), "scopes": ["read"], "expires_at": 12}):
            with self.subTest(body=body):
                self.assertError(self.depot.post(TOKENS, json=body, auth=self.user.bearer), 400)

    def test_bad_scopes_are_422(self):
        for scopes in (["write"], ["publish:rust"], ["publish:"], ["Read"], ["read", "bogus"],
                       ["publish:hex/"], ["admin:all"], [""]):
            with self.subTest(scopes=scopes):
                self.assertError(self.create(scopes=scopes), 422, field="scope")

    def test_good_scopes(self):
        for scopes in (["read"], ["publish"], ["publish:native"], ["publish:hex"],
                       ["publish:pub"], ["publish:npm"], ["publish:hex/plug"],
                       ["read", "publish:native/zlib"]):
            with self.subTest(scopes=scopes):
                t = self.assertJSON(self.create(scopes=scopes), 201)
                self.assertEqual(sorted(t["scopes"]), sorted(scopes))

    def test_admin_scope_needs_an_admin(self):
        self.assertError(self.create(scopes=["admin"]), 403)
        self.assertError(self.create(scopes=["read", "admin"]), 403)
        t = self.assertJSON(self.create(scopes=["admin"], auth=self.admin.bearer), 201)
        self.assertEqual(t["scopes"], ["admin"])

    def test_expires_at(self):
        future = format_time(time.time() + 86400)
        t = self.assertJSON(self.create(expires_at=future), 201)
        self.assertEqual(parse_time(t["expires_at"]), parse_time(future))
        got = self.assertJSON(self.depot.get(TOKENS + "/" + t["name"], auth=self.user.bearer))
        self.assertEqual(parse_time(got["expires_at"]), parse_time(future))
        self.assertJSON(self.create(expires_at=None), 201)

    def test_expires_at_in_the_past_or_malformed_is_rejected(self):
        self.assertError(self.create(expires_at=format_time(time.time() - 60)), 422,
                         field="expires_at")
        for bad in ("tomorrow", "2030-13-01T00:00:00Z", "2030-01-01T25:00:00Z", ""):
            with self.subTest(expires_at=bad):
                self.assertError(self.create(expires_at=bad), (400, 422))

    def test_date_only_expires_at_is_rejected(self):
        # RFC 3339 times have a time of day; a bare date is not one
        self.assertError(self.create(expires_at="2030-01-01"), (400, 422))

    def test_expired_token_is_401(self):
        t = self.assertJSON(self.create(expires_at=format_time(time.time() + 4)), 201)
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + t["token"]))
        time.sleep(max(0.0, parse_time(t["expires_at"]) - time.time()) + 1.1)
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + t["token"]), 401)

    def test_read_token_cannot_manage_tokens(self):
        secret = self.assertJSON(self.create(scopes=["read"]), 201)["token"]
        auth = "Bearer " + secret
        self.assertError(self.create(scopes=["publish"], auth=auth), 403)
        self.assertError(self.create(scopes=["read"], auth=auth), 403)
        self.assertError(self.depot.get(TOKENS, auth=auth), 403)
        self.assertError(self.depot.delete(TOKENS + "/whatever", auth=auth), 403)

    def test_publish_token_cannot_manage_tokens(self):
        secret = self.assertJSON(self.create(scopes=["read", "publish"]), 201)["token"]
        self.assertError(self.create(scopes=["read"], auth="Bearer " + secret), 403)

    def test_admin_token_can_manage_tokens(self):
        # `admin` is read as covering every scope (the server's reading of "within the scopes
        # of the credential"), so an admin token may grant publish and admin
        t = self.assertJSON(self.create(scopes=["admin"], auth=self.admin.bearer), 201)
        auth = "Bearer " + t["token"]
        self.assertJSON(self.create(scopes=["publish:hex/plug"], auth=auth), 201)
        self.assertJSON(self.create(scopes=["read", "publish"], auth=auth), 201)
        self.assertJSON(self.create(scopes=["admin"], auth=auth), 201)
        names = [x["name"] for x in self.assertJSON(self.depot.get(TOKENS, auth=auth))["tokens"]]
        self.assertIn(t["name"], names)
        self.assertStatus(self.depot.delete(TOKENS + "/" + names[-1], auth=auth), 204)

    def test_admin_scope_of_a_demoted_admin_stops_working(self):
        boss = self.cli_user(admin=True)
        t = self.assertJSON(self.create(scopes=["admin"], auth=boss.bearer), 201)
        p = self.depot.cli("user", "demote", boss.username)
        if p.returncode != 0:
            self.skipTest("no `depot user demote`: " + p.stderr.strip())
        r = self.create(scopes=["read"], auth="Bearer " + t["token"])
        self.assertError(r, (401, 403))

    def test_basic_password_can_manage_tokens(self):
        t = self.assertJSON(self.create(scopes=["read", "publish"], auth=self.user.basic), 201)
        self.assertRegex(t["token"], TOKEN_SECRET)

    def test_managing_tokens_needs_a_credential(self):
        self.assertError(self.depot.get(TOKENS), 401)
        self.assertError(self.depot.post(TOKENS, json={"name": "x", "scopes": ["read"]}), 401)
        self.assertError(self.depot.delete(TOKENS + "/x"), 401)

    def test_last_used_at_is_set_on_use(self):
        t = self.assertJSON(self.create("used"), 201)
        self.assertIsNone(t["last_used_at"])
        before = time.time() - 2
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + t["token"]))
        deadline = time.time() + 3
        while True:
            got = self.assertJSON(self.depot.get(TOKENS + "/used", auth=self.user.bearer))
            if got["last_used_at"] is not None or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertIsNotNone(got["last_used_at"], "last_used_at should be set after a use")
        self.assertGreaterEqual(parse_time(got["last_used_at"]), int(before))

    def test_token_never_does_more_than_its_user(self):
        # a plain user's token with every scope it can get still cannot do admin things
        secret = self.assertJSON(self.create(scopes=["read", "publish"]), 201)["token"]
        me = self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + secret))
        self.assertIs(me["is_admin"], False)
        self.assertEqual(me["username"], self.user.username)

    def test_secrets_and_passwords_are_not_stored_in_the_clear(self):
        secret = self.assertJSON(self.create("atrest"), 201)["token"]
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + secret))
        found = []
        for root, _, files in os.walk(self.depot.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    data = fh.read()
                for what, needle in (("token secret", secret.encode()),
                                     ("secret without prefix", secret[4:].encode()),
                                     ("password", self.user.password.encode()),
                                     ("JWT", self.user.jwt.encode())):
                    if needle in data:
                        found.append("%s in %s" % (what, f))
        self.assertEqual(found, [], "only hashes may be stored")
