"""npm accounts: the web login answered so that npm falls back, the couch login PUT (login,
adduser of a new user, adduser of an existing one, wrong passwords with a Basic challenge,
closed registration, the -rev form), whoami, logout revoking the token, the user document
owner add reads, and npm token list|create|revoke on depot's tokens."""

from npm.npmtest import NpmTestCase, publish_doc


def couch(user, password, email=None):
    body = {"_id": "org.couchdb.user:" + user, "name": user, "password": password,
            "type": "user", "roles": [], "date": "2026-01-01T00:00:00.000Z"}
    if email:
        body["email"] = email
    return body


class Users(NpmTestCase):

    def test_web_login_makes_npm_fall_back(self):
        for body in ({}, {"create": True}):
            r = self.npm("POST", "/-/v1/login", json_body=body)
            # npm falls back to the prompts for 400..499 and 500, and stops for 501..
            self.assertTrue(400 <= r.status <= 499, r.describe())
            self.assertNpmError(r, r.status)

    def test_login_gives_a_read_publish_manage_npm_token(self):
        u = self.register_user(prefix="li")
        r = self.npm("PUT", "/-/user/org.couchdb.user:" + u.username,
                     json_body=couch(u.username, u.password))
        self.assertStatus(r, 201)
        tok = r.json()["token"]
        self.assertTrue(tok.startswith("dpt_"), tok)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        who = self.npm("GET", "/-/whoami", auth="Bearer " + tok)
        self.assertEqual(who.json(), {"username": u.username})
        toks = self.depot.get("/api/v1/tokens", auth=u.bearer).json()["tokens"]
        self.assertEqual(len(toks), 1)
        # npm keeps this one token for everything, owners and package unpublish included
        self.assertEqual(toks[0]["scopes"], ["read", "publish", "manage:npm"])
        self.assertTrue(toks[0]["name"].startswith("npm-login-"), toks[0])
        # the -rev form (npm's fallback after a 409, with Basic) works too
        r = self.npm("PUT", "/-/user/org.couchdb.user:%s/-rev/undefined" % u.username,
                     json_body=couch(u.username, u.password), auth=u.basic)
        self.assertStatus(r, 201)

    def test_wrong_password(self):
        u = self.register_user(prefix="wp")
        for user, pw in ((u.username, "wrong password"), ("nosuchuser" + u.username, "whatever1")):
            r = self.npm("PUT", "/-/user/org.couchdb.user:" + user, json_body=couch(user, pw))
            self.assertNpmError(r, 401, "wrong username or password")
            # Basic alone: npm then says "Incorrect or missing password."
            self.assertEqual(r.headers.get_all("WWW-Authenticate"), ['Basic realm="depot"'])

    def test_adduser(self):
        name = self.uniq("au")
        r = self.npm("PUT", "/-/user/org.couchdb.user:" + name,
                     json_body=couch(name, "a good password", name + "@example.com"))
        self.assertStatus(r, 201)
        self.assertIn("created", r.json()["ok"])
        self.assertStatus(self.npm("GET", "/-/whoami", auth="Bearer " + r.json()["token"]), 200)
        # adding an existing user with the right password is a login
        r = self.npm("PUT", "/-/user/org.couchdb.user:" + name,
                     json_body=couch(name, "a good password", name + "@example.com"))
        self.assertStatus(r, 201)
        # ... and with a wrong one, a 401
        r = self.npm("PUT", "/-/user/org.couchdb.user:" + name,
                     json_body=couch(name, "not the password", name + "@example.com"))
        self.assertNpmError(r, 401)
        # depot's account rules hold
        r = self.npm("PUT", "/-/user/org.couchdb.user:x" + name,
                     json_body=couch("x" + name, "short", "x" + name + "@example.com"))
        self.assertNpmError(r, 422, "password")

    def test_bad_bodies(self):
        u = self.register_user(prefix="bb")
        r = self.npm("PUT", "/-/user/org.couchdb.user:" + u.username,
                     json_body=couch("someone-else", u.password))
        self.assertNpmError(r, 400, "url names")
        r = self.npm("PUT", "/-/user/org.couchdb.user:" + u.username, json_body={"name": u.username})
        self.assertNpmError(r, 400, "password")
        r = self.npm("PUT", "/-/user/" + u.username, json_body=couch(u.username, u.password))
        self.assertNpmError(r, 404)
        r = self.npm("PUT", "/-/user/org.couchdb.user:" + u.username, body=b"{nope",
                     headers={"Content-Type": "application/json"})
        self.assertNpmError(r, 400)

    def test_profile(self):
        u = self.register_user(prefix="pf")
        r = self.npm("GET", "/-/npm/v1/user", auth=self.npm_token(u))
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["name"], u.username)
        self.assertEqual(r.json()["email"], u.email)
        self.assertNpmError(self.npm("GET", "/-/npm/v1/user"), 401)

    def test_whoami_needs_a_credential(self):
        self.assertNpmError(self.npm("GET", "/-/whoami"), 401)
        r = self.npm("GET", "/-/whoami", auth="Bearer dpt_not_a_real_token_at_all")
        self.assertNpmError(r, 401)
        self.assertTrue(r.headers.get_all("WWW-Authenticate")[0].startswith("Bearer"))

    def test_logout_revokes(self):
        u = self.register_user(prefix="lo")
        tok = self.npm_token(u)
        secret = tok.split(" ", 1)[1]
        r = self.npm("DELETE", "/-/user/token/" + secret, auth=tok)
        self.assertStatus(r, 200)
        self.assertNpmError(self.npm("GET", "/-/whoami", auth=tok), 401)
        # another user's token is not found through mine
        v = self.register_user(prefix="lo")
        vt = self.npm_token(v).split(" ", 1)[1]
        mine = self.npm_token(u)
        self.assertNpmError(self.npm("DELETE", "/-/user/token/" + vt, auth=mine), 404)
        self.assertStatus(self.npm("GET", "/-/whoami", auth="Bearer " + vt), 200)

    def test_user_document(self):
        u = self.register_user(prefix="ud")
        r = self.npm("GET", "/-/user/org.couchdb.user:" + u.username)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["name"], u.username)
        # others get a no-reply address (npm owner add needs one); the user sees their own
        host = self.depot.url.split("://", 1)[1].split(":")[0]
        self.assertEqual(r.json()["email"], "%s@users.noreply.%s" % (u.username, host))
        r = self.npm("GET", "/-/user/org.couchdb.user:" + u.username, auth=self.npm_token(u))
        self.assertEqual(r.json()["email"], u.email)
        self.assertNpmError(self.npm("GET", "/-/user/org.couchdb.user:nobody" + u.username), 404)
        # by name only, not by email
        self.assertNpmError(self.npm("GET", "/-/user/org.couchdb.user:" + u.email), 404)

    def test_tokens(self):
        u = self.register_user(prefix="tk")
        login = self.npm_token(u)
        # create needs the password, which npm sends
        r = self.npm("POST", "/-/npm/v1/tokens", auth=login,
                     json_body={"name": "ci", "password": u.password})
        self.assertStatus(r, 200)
        created = r.json()
        self.assertTrue(created["token"].startswith("dpt_"))
        self.assertFalse(created["readonly"])
        r = self.npm("POST", "/-/npm/v1/tokens", auth=login,
                     json_body={"name": "ci2", "password": "wrong password"})
        self.assertNpmError(r, 401)
        r = self.npm("POST", "/-/npm/v1/tokens", auth=login,
                     json_body={"name": None, "password": u.password, "expires": 30,
                                "packages_and_scopes_permission": "read-only"})
        self.assertStatus(r, 200)
        self.assertTrue(r.json()["readonly"])
        self.assertIn("expires", r.json())
        r = self.npm("POST", "/-/npm/v1/tokens", auth=login,
                     json_body={"password": u.password, "cidr_whitelist": ["10.0.0.0/8"]})
        self.assertNpmError(r, 422, "cidr")
        r = self.npm("POST", "/-/npm/v1/tokens", auth=login,
                     json_body={"name": "scoped", "password": u.password, "packages": ["mine"]})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["scopes"], ["read", "publish:npm/mine"])
        # list: npm needs objects with key, token, name, created; urls.next falsy
        r = self.npm("GET", "/-/npm/v1/tokens", auth=login)
        self.assertStatus(r, 200)
        doc = r.json()
        self.assertFalse(doc["urls"].get("next"))
        self.assertEqual(len(doc["objects"]), 4)
        for t in doc["objects"]:
            for k in ("token", "key", "name", "created", "readonly"):
                self.assertIn(k, t)
            self.assertNotIn(t["token"], (created["token"],))
        ci = [t for t in doc["objects"] if t["name"] == "ci"][0]
        # revoke by key
        self.assertStatus(self.npm("DELETE", "/-/npm/v1/tokens/token/" + ci["key"], auth=login), 200)
        self.assertNpmError(self.npm("GET", "/-/whoami", auth="Bearer " + created["token"]), 401)
        self.assertNpmError(self.npm("DELETE", "/-/npm/v1/tokens/token/" + ci["key"], auth=login), 404)
        # a read-only token may see nothing and revoke nothing but itself
        ro, _ = self.make_token(u.bearer, ("read",))
        self.assertNpmError(self.npm("GET", "/-/npm/v1/tokens", auth="Bearer " + ro), 403)
        other = [t for t in doc["objects"] if t["name"] != "ci"][0]
        self.assertNpmError(self.npm("DELETE", "/-/npm/v1/tokens/token/" + other["key"],
                                     auth="Bearer " + ro), 403)

    def test_closed_registration(self):
        d = self.make_depot(extra_args=["--registration", "closed"])
        name = self.uniq("cr")
        r = self.npm("PUT", "/-/user/org.couchdb.user:" + name, depot=d,
                     json_body=couch(name, "a good password", name + "@example.com"))
        self.assertNpmError(r, 403, "registration is closed")

    def test_login_then_publish(self):
        u = self.register_user(prefix="lp")
        tok = self.npm_token(u)
        name = self.uniq("lp")
        r = self.npm("PUT", "/" + name, auth=tok, json_body=publish_doc(name, "1.0.0"))
        self.assertStatus(r, 201)
