"""Login, refresh, logout, /me and /auth/me, and the /api/ alias of /api/v1/."""

import time

from apitest import DepotTestCase, parse_time

DEFAULT_JWT_TTL = 2592000


class Login(DepotTestCase):

    def setUp(self):
        super().setUp()
        self.user = self.new_user(login=False)

    def check_login(self, r):
        body = self.assertJSON(r, 200)
        for k in ("token", "expires_at", "user"):
            self.assertIn(k, body)
        self.assertEqual(body["token"].count("."), 2, "the token should be a JWT")
        self.assertTime(body["expires_at"], "expires_at")
        self.assertUserShape(body["user"], self.user.username, self.user.email)
        return body

    def test_login_by_username_and_the_jwt_works(self):
        body = self.check_login(self.depot.login(self.user.username, self.user.password))
        ttl = parse_time(body["expires_at"]) - time.time()
        self.assertTrue(DEFAULT_JWT_TTL - 120 < ttl <= DEFAULT_JWT_TTL + 5,
                        "expires_at should be about 30 days ahead, is %.0fs" % ttl)
        me = self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + body["token"]))
        self.assertEqual(me["username"], self.user.username)

    def test_login_by_email(self):
        for field in ("email", "login"):
            with self.subTest(field=field):
                self.check_login(self.depot.login(self.user.email, self.user.password, field))

    def test_login_field_login_with_username(self):
        self.check_login(self.depot.login(self.user.username, self.user.password, "login"))

    def test_wrong_password_and_unknown_user_are_the_same_401(self):
        a = self.depot.login(self.user.username, "wrong password")
        b = self.depot.login(self.uniq("nobody"), "wrong password")
        c = self.depot.login(self.uniq("nobody") + "@example.com", "wrong password", "email")
        for r in (a, b, c):
            self.assertError(r, 401)
        self.assertEqual(a.body, b.body, "a wrong password and an unknown user should answer "
                         "alike:\n%s\n%s" % (a.describe(), b.describe()))
        self.assertEqual(a.body, c.body)
        self.assertEqual(a.headers.get_all("WWW-Authenticate"),
                         b.headers.get_all("WWW-Authenticate"))

    def test_missing_password_or_login_is_400(self):
        self.assertError(self.depot.post("/api/v1/auth/login",
                                         json={"username": self.user.username}), 400)
        self.assertError(self.depot.post("/api/v1/auth/login",
                                         json={"password": self.user.password}), 400)
        self.assertError(self.depot.post("/api/v1/auth/login", body=b"{oops",
                                         headers={"Content-Type": "application/json"}), 400)
        self.assertError(self.depot.post("/api/v1/auth/login",
                                         json={"username": 7, "password": "x"}), 400)

    def test_login_does_not_echo_the_password(self):
        r = self.depot.login(self.user.username, self.user.password)
        self.assertStatus(r, 200)
        self.assertNotIn(self.user.password, r.text)

    def test_each_login_gives_a_distinct_working_jwt(self):
        t1 = self.depot.jwt(self.user.username, self.user.password)
        t2 = self.depot.jwt(self.user.username, self.user.password)
        self.assertNotEqual(t1, t2, "two logins in the same second should still differ (jti)")
        for t in (t1, t2):
            self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + t))


class RefreshLogoutMe(DepotTestCase):

    def test_me_and_auth_me(self):
        u = self.new_user()
        for path in ("/api/v1/me", "/api/v1/auth/me", "/api/me", "/api/auth/me"):
            with self.subTest(path=path):
                me = self.assertJSON(self.depot.get(path, auth=u.bearer))
                self.assertUserShape(me, u.username, u.email)
                self.assertEqual(me["id"], u.id)
                self.assertIs(me["is_admin"], False)

    def test_me_without_credential_is_401(self):
        for path in ("/api/v1/me", "/api/v1/auth/me", "/api/me"):
            with self.subTest(path=path):
                self.assertError(self.depot.get(path), 401)

    def test_refresh_gives_a_fresh_jwt(self):
        u = self.new_user()
        r = self.depot.post("/api/v1/auth/refresh", auth=u.bearer)
        body = self.assertJSON(r, 200)
        for k in ("token", "expires_at", "user"):
            self.assertIn(k, body)
        self.assertNotEqual(body["token"], u.jwt)
        self.assertTime(body["expires_at"])
        self.assertUserShape(body["user"], u.username)
        me = self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + body["token"]))
        self.assertEqual(me["username"], u.username)

    def test_refresh_needs_a_jwt(self):
        u = self.new_user()
        self.assertError(self.depot.post("/api/v1/auth/refresh"), 401)
        secret, _ = self.make_token(u.bearer, ["read"])
        r = self.depot.post("/api/v1/auth/refresh", auth="Bearer " + secret)
        self.assertError(r, (401, 403))
        r = self.depot.post("/api/v1/auth/refresh", auth=u.basic)
        self.assertError(r, (401, 403))

    def test_logout_revokes_the_jwt_only(self):
        u = self.new_user()
        other = self.depot.jwt(u.username, u.password)
        r = self.depot.post("/api/v1/auth/logout", auth=u.bearer)
        self.assertStatus(r, 204)
        self.assertEqual(r.body, b"")
        self.assertError(self.depot.get("/api/v1/me", auth=u.bearer), 401)
        self.assertError(self.depot.post("/api/v1/auth/refresh", auth=u.bearer), 401)
        self.assertError(self.depot.post("/api/v1/auth/logout", auth=u.bearer), 401)
        # another session of the same user is untouched
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + other))

    def test_refresh_of_a_logged_out_jwt_is_401(self):
        u = self.new_user()
        self.assertStatus(self.depot.post("/api/v1/auth/logout", auth=u.bearer), 204)
        self.assertError(self.depot.post("/api/v1/auth/refresh", auth=u.bearer), 401)

    def test_logout_needs_a_jwt(self):
        u = self.new_user()
        self.assertError(self.depot.post("/api/v1/auth/logout"), 401)
        secret, _ = self.make_token(u.bearer, ["read"])
        self.assertError(self.depot.post("/api/v1/auth/logout", auth="Bearer " + secret),
                         (401, 403))
        # the token still works: logout did nothing with it
        self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + secret))

    def test_api_alias_for_every_flow(self):
        name = self.uniq("al")
        r = self.depot.post("/api/auth/register", json={"username": name,
                                                        "email": name + "@example.com",
                                                        "password": "correct horse"})
        self.assertJSON(r, 201)
        body = self.assertJSON(self.depot.post("/api/auth/login",
                                               json={"username": name,
                                                     "password": "correct horse"}))
        jwt = "Bearer " + body["token"]
        self.assertEqual(self.assertJSON(self.depot.get("/api/me", auth=jwt))["username"], name)
        t = self.assertJSON(self.depot.post("/api/tokens", json={"name": "aliased",
                                                                 "scopes": ["read"]},
                                            auth=jwt), 201)
        self.assertIn("aliased", [x["name"] for x in
                                  self.assertJSON(self.depot.get("/api/tokens",
                                                                 auth=jwt))["tokens"]])
        self.assertJSON(self.depot.get("/api/tokens/aliased", auth=jwt))
        self.assertJSON(self.depot.get("/api/me", auth="Bearer " + t["token"]))
        self.assertStatus(self.depot.delete("/api/tokens/aliased", auth=jwt), 204)
        fresh = self.assertJSON(self.depot.post("/api/auth/refresh", auth=jwt))
        self.assertStatus(self.depot.post("/api/auth/logout", auth="Bearer " + fresh["token"]),
                          204)
        self.assertError(self.depot.get("/api/nope"), 404)
