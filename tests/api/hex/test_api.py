"""
test_api.py — the Hex HTTP API's users, keys, key checks and repositories, in the clients' wire
shapes (ETF bodies with `accept: application/vnd.hex+erlang`, the raw key in `authorization`,
Basic for key creation), plus content negotiation: ETF for the Hex media type, JSON for
application/json, request bodies in either, 400/415 for bodies that are neither.
"""

import base64
import json

from apitest import basic
from hex.hextest import ETF, HexTestCase, etf_decode, etf_encode


class Negotiation(HexTestCase):

    def test_etf_and_json_answers(self):
        r = self.api("GET", "/users/me", key=self.key)
        self.assertStatus(r, 200)
        self.assertIn(ETF, r.headers.get("Content-Type"))
        t = etf_decode(r.body)  # with [safe]: only true/false/nil atoms
        self.assertEqual(t["username"], self.owner.username)
        self.assertEqual(t["organizations"], [])
        r = self.api("GET", "/users/me", key=self.key, accept="application/json")
        self.assertTrue(r.headers.get("Content-Type").startswith("application/json"))
        self.assertEqual(r.json()["username"], self.owner.username)
        # errors follow the same negotiation
        r = self.api("GET", "/packages/nosuchpkg")
        self.assertHexError(r, 404)
        self.assertIn(ETF, r.headers.get("Content-Type"))
        r = self.api("GET", "/packages/nosuchpkg", accept="application/json")
        self.assertEqual(r.json()["status"], 404)

    def test_request_bodies(self):
        name = self.uniq("negkey")
        # ETF, with atoms as OTP 25 (ATOM_EXT) and OTP 26 (SMALL_ATOM_UTF8_EXT) write them
        for tag in (100, 119):
            n = "%s-%d" % (name, tag)
            r = self.depot.request("POST", "/hex/api/keys", body=etf_encode(
                {"name": n, "permissions": [{"domain": "api", "resource": "read"}]}, atom_tag=tag),
                headers={"Authorization": self.key, "Content-Type": ETF, "Accept": ETF})
            self.assertStatus(r, 201)
        r = self.depot.request("POST", "/hex/api/keys", body=json.dumps({"name": name + "-json"}).encode(),
                               headers={"Authorization": self.key, "Content-Type": "application/json",
                                        "Accept": "application/json"})
        self.assertStatus(r, 201)
        self.assertTrue(r.json()["secret"].startswith("dpt_"))
        r = self.api("POST", "/keys", raw=b"\x83\x6c\x00\x00\x00\x01\x61\x01\x61\x02", ctype=ETF, key=self.key)
        self.assertHexError(r, 400)
        r = self.api("POST", "/keys", raw=b"\x83\x50\x00\x00\x00\x05xxxx", ctype=ETF, key=self.key)
        self.assertHexError(r, 400, message="compressed")
        r = self.api("POST", "/keys", raw=b"{not json", ctype="application/json", key=self.key)
        self.assertHexError(r, 400)
        r = self.api("POST", "/keys", raw=b"name=x", ctype="application/x-www-form-urlencoded", key=self.key)
        self.assertHexError(r, 415)
        r = self.api("POST", "/keys", body=[1, 2], key=self.key)
        self.assertHexError(r, 400, message="map")

    def test_httpc_quirks(self):
        """OTP httpc sends content-length: 0 on GETs and an empty `te:` header."""
        req = ("GET /hex/api/users/me HTTP/1.1\r\ncontent-type: \r\ncontent-length: 0\r\n"
               "user-agent: hex_core/0.18.0 hex/2.5.1 (elixir/1.14.0) (OTP/25) (erts/13.1.5)\r\n"
               "te: \r\nhost: %s:%d\r\nauthorization: %s\r\naccept: application/vnd.hex+erlang\r\n"
               "connection: keep-alive\r\n\r\n" % (self.depot.host, self.depot.port, self.key))
        r = self.depot.raw(req.encode())
        self.assertStatus(r, 200)
        self.assertEqual(etf_decode(r.body)["username"], self.owner.username)


class Users(HexTestCase):

    def test_create_and_get(self):
        name = self.uniq("hexuser")
        r = self.api("POST", "/users", {"username": name, "email": name + "@example.com",
                                        "password": "a-long-password-1"})
        self.assertStatus(r, 201)
        self.assertTrue(r.headers.get("Location").endswith("/hex/api/users/" + name))
        self.assertEqual(self.term(r)["username"], name)
        r = self.api("POST", "/users", {"username": name, "email": name + "2@example.com",
                                        "password": "a-long-password-1"})
        self.assertIn(r.status, (409, 422))
        self.assertHexError(r, r.status)
        r = self.api("POST", "/users", {"username": name + "x"})
        t = self.assertHexError(r, 422, field="password")
        self.assertIn("email", t["errors"])
        # a profile: email only for the user themself
        r = self.api("GET", "/users/" + name)
        self.assertStatus(r, 200)
        self.assertIsNone(self.term(r)["email"])
        self.assertIsInstance(self.term(r)["packages"], list)
        # an address finds its user only once the user shows it (hex.pm: public addresses only)
        self.assertHexError(self.api("GET", "/users/" + name + "@example.com"), 404)
        self.assertStatus(self.depot.show_email("Bearer " + self.depot.jwt(name, "a-long-password-1")), 200)
        r = self.api("GET", "/users/" + name + "@example.com")
        self.assertEqual(self.term(r)["username"], name)
        self.assertEqual(self.term(r)["email"], name + "@example.com")
        self.assertHexError(self.api("GET", "/users/nosuchuser_zz"), 404)

    def test_me_lists_packages(self):
        name = self.uniq("mepkg")
        self.published(name)
        t = self.term(self.api("GET", "/users/me", key=self.key))
        self.assertEqual(t["organizations"], [])
        names = [p["name"] for p in t["packages"]]
        self.assertIn(name, names)
        p = [p for p in t["packages"] if p["name"] == name][0]
        self.assertEqual(p["repository"], "depot")
        self.assertTrue(p["html_url"] and p["url"])
        self.assertIn(name, t["owned_packages"])

    def test_me_needs_a_key(self):
        r = self.api("GET", "/users/me")
        self.assertHexError(r, 401, message="missing authentication information")
        self.assertTrue(r.headers.get_all("WWW-Authenticate"))
        r = self.api("GET", "/users/me", key="wrong-key-0000000000000000")
        self.assertHexError(r, 401)
        self.assertIn(ETF, r.headers.get("Content-Type"), "the bad key's 401 is an Erlang term too")

    def test_reset_request(self):
        r = self.api("POST", "/users/%s/reset" % self.owner.username, {})
        self.assertStatus(r, 204)
        r = self.api("POST", "/users/nosuchuser_zz/reset", {})
        self.assertStatus(r, 204)  # says nothing about which accounts exist

    def test_repos(self):
        r = self.api("GET", "/repos")
        self.assertStatus(r, 200)
        self.assertEqual([x["name"] for x in self.term(r)], ["depot"])
        self.assertEqual(self.term(self.api("GET", "/repos/depot"))["name"], "depot")
        self.assertHexError(self.api("GET", "/repos/other"), 404)


class Keys(HexTestCase):

    def test_create_list_get_delete(self):
        name = self.uniq("ci")
        r = self.api("POST", "/keys", {"name": name, "permissions": [
            {"domain": "repository", "resource": "depot"}, {"domain": "api", "resource": "read"}]},
            key=self.key)
        self.assertEqual(r.status, 201, "key creation must answer exactly 201: " + r.describe())
        k = self.term(r)
        self.assertTrue(k["secret"].startswith("dpt_"))
        self.assertEqual(k["name"], name)
        self.assertFalse(k["authing_key"])
        self.assertTrue(r.headers.get("Location").endswith("/hex/api/keys/" + name))
        # the new key works, read-only
        self.assertStatus(self.api("GET", "/users/me", key=k["secret"]), 200)
        self.assertStatus(self.api("GET", "/auth?domain=api&resource=read", key=k["secret"]), 204)
        self.assertHexError(self.api("GET", "/auth?domain=api&resource=write", key=k["secret"]), 403)
        # a name clash gets -2, as hex.pm does
        r2 = self.api("POST", "/keys", {"name": name}, key=self.key)
        self.assertStatus(r2, 201)
        self.assertEqual(self.term(r2)["name"], name + "-2")
        lst = self.term(self.api("GET", "/keys", key=self.key))
        names = {x["name"]: x for x in lst}
        for x in lst:
            self.assertIn("inserted_at", x)
            self.assertIsNone(x["secret"])
        self.assertIn(name, names)
        self.assertTrue(names["hex-key"]["authing_key"])
        self.assertEqual(self.term(self.api("GET", "/keys/" + name, key=self.key))["name"], name)
        r = self.api("DELETE", "/keys/" + name, key=self.key)
        self.assertStatus(r, 200)
        self.assertHexError(self.api("GET", "/users/me", key=k["secret"]), 401)
        self.assertHexError(self.api("GET", "/keys/" + name, key=self.key), 404)
        self.assertHexError(self.api("DELETE", "/keys/" + name, key=self.key), 404)

    def test_validation(self):
        self.assertHexError(self.api("POST", "/keys", {}, key=self.key), 422, field="name")
        self.assertHexError(self.api("POST", "/keys", {"name": "x", "permissions": [{"domain": "nope"}]},
                                     key=self.key), 422, field="permissions")
        self.assertHexError(self.api("POST", "/keys", {"name": "x", "permissions": [
            {"domain": "repository", "resource": "acme"}]}, key=self.key), 422, field="permissions")
        self.assertHexError(self.api("POST", "/keys", {"name": "x", "permissions": "api"}, key=self.key),
                            422, field="permissions")
        self.assertHexError(self.api("POST", "/keys", {"name": "x", "revoke_at": "2001-01-01T00:00:00Z"},
                                     key=self.key), 422, field="revoke_at")

    def test_basic_auth_creates_keys(self):
        """Old clients (Hex ≤ 2.2, rebar3_hex) create their first key with Basic auth."""
        u = self.new_user(prefix="basic")
        r = self.depot.request("POST", "/hex/api/keys", body=etf_encode({"name": "devbox-api"}),
                               headers={"Authorization": basic(u.username, u.password),
                                        "Content-Type": ETF, "Accept": ETF})
        self.assertStatus(r, 201)
        secret = etf_decode(r.body)["secret"]
        perms = etf_decode(r.body)["permissions"]
        self.assertIn({"domain": "api", "resource": None}, perms)
        self.assertStatus(self.api("GET", "/users/me", key=secret), 200)
        r = self.depot.request("POST", "/hex/api/keys", body=etf_encode({"name": "x"}),
                               headers={"Authorization": basic(u.username, "wrong-password"),
                                        "Content-Type": ETF, "Accept": ETF})
        self.assertHexError(r, 401)

    def test_narrow_keys_cannot_manage_keys(self):
        r = self.depot.create_token(self.owner.bearer, self.uniq("ro"), ["read"])
        ro = r.json()["token"]
        self.assertHexError(self.api("POST", "/keys", {"name": "x"}, key=ro), 403)
        self.assertHexError(self.api("DELETE", "/keys", key=ro), 403)
        # nor even see them (the native API refuses such a token the same way)
        self.assertHexError(self.api("GET", "/keys", key=ro), 403)
        self.assertHexError(self.api("GET", "/orgs/depot/keys", key=ro), 403)
        # a key can always revoke itself
        self.assertStatus(self.api("DELETE", "/keys/" + r.json()["name"], key=ro), 200)
        # a key never grants more than its own scopes
        r = self.depot.create_token(self.owner.bearer, self.uniq("pkgonly"), ["publish:hex/somepkg"])
        narrow = r.json()["token"]
        self.assertHexError(self.api("POST", "/keys", {"name": "wider"}, key=narrow), 403)

    def test_org_keys_and_delete_all(self):
        u = self.new_user(prefix="orgk")
        tok = self.depot.create_token(u.bearer, "main", ["publish:hex", "manage:hex"]).json()["token"]
        r = self.api("POST", "/orgs/depot/keys", {"name": "ci-key", "permissions": [
            {"domain": "repository", "resource": "depot"}]}, key=tok)
        self.assertEqual(r.status, 201, r.describe())
        self.assertIn("/hex/api/orgs/depot/keys/ci-key", self.term(r)["url"])
        self.assertEqual(len(self.term(self.api("GET", "/orgs/depot/keys", key=tok))), 2)
        self.assertHexError(self.api("GET", "/orgs/acme/keys", key=tok), 404)
        self.assertStatus(self.api("DELETE", "/orgs/depot/keys/ci-key", key=tok), 200)
        r = self.api("DELETE", "/orgs/depot/keys", key=tok)
        self.assertStatus(r, 200)
        self.assertTrue(self.term(r)["authing_key"])
        self.assertHexError(self.api("GET", "/users/me", key=tok), 401)

    def test_auth_check(self):
        self.assertStatus(self.api("GET", "/auth?domain=repository&resource=depot", key=self.key), 204)
        self.assertStatus(self.api("GET", "/auth?domain=repositories", key=self.key), 204)
        self.assertStatus(self.api("GET", "/auth?domain=api", key=self.key), 204)
        self.assertStatus(self.api("GET", "/auth?domain=package&resource=depot/anything", key=self.key), 204)
        self.assertHexError(self.api("GET", "/auth?domain=repository&resource=acme", key=self.key), 403)
        self.assertHexError(self.api("GET", "/auth?domain=repository&resource=depot"), 401)
        self.assertHexError(self.api("GET", "/auth", key=self.key), 400)
