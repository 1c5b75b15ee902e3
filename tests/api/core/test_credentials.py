"""Every kind of credential, wrong credentials on routes that need none, and forged or
expired JWTs."""

import base64
import hashlib
import hmac
import json
import time

from apitest import DepotTestCase, basic

ME = "/api/v1/me"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), s


class Credentials(DepotTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.register_user()
        r = cls.depot.create_token(cls.user.bearer, "cred", ["read"])
        assert r.status == 201, r.describe()
        cls.secret = r.json()["token"]

    def me_as(self, auth):
        return self.depot.get(ME, auth=auth)

    def test_bearer_jwt(self):
        self.assertEqual(self.assertJSON(self.me_as(self.user.bearer))["username"],
                         self.user.username)

    def test_bearer_api_token(self):
        self.assertEqual(self.assertJSON(self.me_as("Bearer " + self.secret))["username"],
                         self.user.username)

    def test_bare_api_token(self):
        self.assertEqual(self.assertJSON(self.me_as(self.secret))["username"],
                         self.user.username)

    def test_basic_with_username_and_with_email(self):
        for login in (self.user.username, self.user.email):
            with self.subTest(login=login):
                me = self.assertJSON(self.me_as(basic(login, self.user.password)))
                self.assertEqual(me["username"], self.user.username)

    def test_basic_wrong_password_or_unknown_user_is_401(self):
        for auth in (basic(self.user.username, "wrong password"),
                     basic(self.user.email, "wrong password"),
                     basic(self.uniq("ghost"), self.user.password),
                     basic(self.user.username, "")):
            with self.subTest(auth=auth):
                self.assertError(self.me_as(auth), 401)

    def test_malformed_credentials_are_401(self):
        for auth in ("Bearer", "Bearer ", "Bearer not-a-token", "Basic", "Basic !!!notbase64",
                     "Basic " + base64.b64encode(b"no-colon-here").decode(),
                     "dpt_" + "A" * 43, "Bearer dpt_" + "A" * 43, "Bearer a.b.c",
                     "Bearer " + self.secret + "x", "Bearer " + self.secret[:-1],
                     "Digest username=x", self.user.jwt + "x"):
            with self.subTest(auth=auth):
                self.assertError(self.me_as(auth), 401)

    def test_wrong_credential_is_401_even_where_none_is_needed(self):
        bad = "Bearer dpt_" + "B" * 43
        r = self.depot.post("/api/v1/auth/login", json={"username": self.user.username,
                                                        "password": self.user.password},
                            auth=bad)
        self.assertError(r, 401)
        name = self.uniq("wc")
        r = self.depot.register(name, name + "@example.com", "correct horse", auth=bad)
        self.assertError(r, 401)
        r = self.depot.post("/api/v1/auth/login", json={"username": self.user.username,
                                                        "password": self.user.password},
                            auth=basic(self.user.username, "wrong password"))
        self.assertError(r, 401)
        # and nothing was created
        self.assertError(self.depot.login(name, "correct horse"), 401)

    def test_no_credential_on_me_is_401(self):
        self.assertError(self.depot.get(ME), 401)

    # ---- forged JWTs --------------------------------------------------------------------------

    def test_flipped_payload_character_is_401(self):
        h, p, s = self.user.jwt.split(".")
        for i in (0, len(p) // 2, len(p) - 2):
            c = p[i]
            flipped = p[:i] + ("A" if c != "A" else "B") + p[i + 1:]
            with self.subTest(pos=i):
                self.assertError(self.me_as("Bearer %s.%s.%s" % (h, flipped, s)), 401)

    def test_flipped_signature_is_401(self):
        h, p, s = self.user.jwt.split(".")
        s2 = ("A" if s[0] != "A" else "B") + s[1:]
        self.assertError(self.me_as("Bearer %s.%s.%s" % (h, p, s2)), 401)
        self.assertError(self.me_as("Bearer %s.%s." % (h, p)), 401)

    def test_payload_for_another_user_is_401(self):
        other = self.register_user()
        h, p, s = self.user.jwt.split(".")
        _, claims, _ = jwt_parts(other.jwt)
        forged = "%s.%s.%s" % (h, b64url(json.dumps(claims).encode()), s)
        self.assertError(self.me_as("Bearer " + forged), 401)

    def test_alg_none_is_401(self):
        _, claims, sig = jwt_parts(self.user.jwt)
        claims["exp"] = int(time.time()) + 3600
        payload = b64url(json.dumps(claims).encode())
        for alg in ("none", "None", "NONE"):
            header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
            for tail in ("", sig):
                with self.subTest(alg=alg, signed=bool(tail)):
                    self.assertError(self.me_as("Bearer %s.%s.%s" % (header, payload, tail)),
                                     401)

    def test_other_algorithms_are_401(self):
        _, claims, _ = jwt_parts(self.user.jwt)
        payload = b64url(json.dumps(claims).encode())
        for alg, digest in (("HS512", hashlib.sha512), ("HS384", hashlib.sha384)):
            header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
            signing = ("%s.%s" % (header, payload)).encode()
            for key in (b"", b"secret", self.secret.encode()):
                sig = b64url(hmac.new(key, signing, digest).digest())
                with self.subTest(alg=alg, key=key[:6]):
                    self.assertError(self.me_as("Bearer %s.%s.%s" % (header, payload, sig)),
                                     401)

    def test_hs256_with_a_guessed_key_is_401(self):
        _, claims, _ = jwt_parts(self.user.jwt)
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims).encode())
        signing = ("%s.%s" % (header, payload)).encode()
        for key in (b"", b"secret", b"depot"):
            sig = b64url(hmac.new(key, signing, hashlib.sha256).digest())
            with self.subTest(key=key):
                self.assertError(self.me_as("Bearer %s.%s.%s" % (header, payload, sig)), 401)

    def test_jwt_claims_shape(self):
        header, claims, _ = jwt_parts(self.user.jwt)
        self.assertEqual(header.get("alg"), "HS256")
        for k in ("sub", "iat", "exp", "jti"):
            self.assertIn(k, claims)
        self.assertGreater(claims["exp"], claims["iat"])


class ExpiredJWT(DepotTestCase):
    # exp = iat + ttl in whole seconds and a token is refused from exp on (RFC 7519 4.1.4), so
    # a token lives between ttl - 1 and ttl seconds: with 1 it may be dead on arrival.
    depot_args = ("--jwt-ttl", "3")

    def test_jwt_expires_after_ttl(self):
        u = self.new_user()
        body = self.assertJSON(self.depot.login(u.username, u.password))
        self.assertJSON(self.depot.get(ME, auth="Bearer " + body["token"]))
        time.sleep(3.1)
        self.assertError(self.depot.get(ME, auth="Bearer " + body["token"]), 401)
        self.assertError(self.depot.post("/api/v1/auth/refresh", auth="Bearer " + body["token"]),
                         401)
        # a password still works, and a new login gives a working JWT
        self.assertJSON(self.depot.get(ME, auth=u.basic))
        fresh = self.depot.jwt(u.username, u.password)
        self.assertJSON(self.depot.get(ME, auth="Bearer " + fresh))
