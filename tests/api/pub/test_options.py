"""pub options and uploaders, in pub.dev's shapes: discontinue (isDiscontinued, replacedBy) and
retract (isRetracted) for owners, what the listing then says (and how `latest` moves), that a
new publish keeps a package discontinued, the 401/403 a user sees without a token or without
ownership, and uploaders through the shared owner model (a co-owner added here may publish).
Package options and uploaders are managing the package: they need a manage scope (or a session),
which the publish token dart pub holds does not carry; version options are publishing."""

from pub.dartpub import package, server_message
from pub.pubtest import PubTestCase


class Options(PubTestCase):

    def setUp(self):
        super().setUp()
        self.user, self.token = self.pub_user()
        self.auth = "Bearer " + self.token
        self.mauth = "Bearer " + self.depot.create_token(
            self.user.bearer, self.uniq("mng"), ["read", "manage:pub"]).json()["token"]
        self.name = self.uniq("opt_")
        for v in ("1.0.0", "1.1.0", "2.0.0-dev.1"):
            self.publish_ok(self.token, self.name, v)

    def listing(self):
        return self.client(self.token).listing(self.name)

    def put(self, path, body, auth=None):
        if auth is None:
            auth = self.mauth if path == "/options" else self.auth
        return self.pub("PUT", "/api/packages/%s%s" % (self.name, path), json=body, auth=auth)

    def test_discontinue(self):
        r = self.put("/options", {"isDiscontinued": True, "replacedBy": "better_pkg"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"isDiscontinued": True, "replacedBy": "better_pkg",
                                    "isUnlisted": False})
        doc = self.listing()
        self.assertIs(doc["isDiscontinued"], True)
        self.assertEqual(doc["replacedBy"], "better_pkg")
        self.assertEqual(self.pub("GET", "/api/packages/%s/options" % self.name).json(), r.json())
        # a new version keeps the package discontinued
        self.publish_ok(self.token, self.name, "1.2.0")
        self.assertIs(self.listing()["isDiscontinued"], True)
        # only the fields sent change; undiscontinuing drops replacedBy
        self.assertEqual(self.put("/options", {"isUnlisted": False}).json()["replacedBy"], "better_pkg")
        r = self.put("/options", {"isDiscontinued": False})
        self.assertEqual(r.json(), {"isDiscontinued": False, "replacedBy": None, "isUnlisted": False})
        doc = self.listing()
        self.assertIs(doc["isDiscontinued"], False)
        self.assertNotIn("replacedBy", doc)

    def test_discontinue_bad_bodies(self):
        self.assertPubError(self.put("/options", {"isDiscontinued": "true"}), 400, "isDiscontinued")
        self.assertPubError(self.put("/options", {"replacedBy": "x"}), 422, "isDiscontinued: true")
        self.assertPubError(self.put("/options", {"isDiscontinued": True, "replacedBy": self.name}),
                            422, "another package")
        self.assertPubError(self.put("/options", {"isDiscontinued": True, "replacedBy": "a-b"}),
                            422)
        self.assertPubError(self.put("/options", {"isUnlisted": True}), 422, "not supported")
        r = self.pub("PUT", "/api/packages/%s/options" % self.name, body="{}", auth=self.mauth,
                     headers={"Content-Type": "text/plain"})
        self.assertPubError(r, 415)

    def test_retract(self):
        self.assertEqual(self.listing()["latest"]["version"], "1.1.0")
        r = self.put("/versions/1.1.0/options", {"isRetracted": True})
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"isRetracted": True})
        doc = self.listing()
        by = {v["version"]: v for v in doc["versions"]}
        self.assertIs(by["1.1.0"]["retracted"], True)
        self.assertIs(by["1.0.0"]["retracted"], False)
        self.assertEqual(doc["latest"]["version"], "1.0.0")
        self.assertEqual(self.pub("GET", "/api/packages/%s/versions/1.1.0/options" % self.name).json(),
                         {"isRetracted": True})
        # a retracted version stays downloadable (a lock file may pin it)
        self.client(self.token).download(self.name, "1.1.0")
        # every stable retracted: the highest pre-release; every version retracted: the rule
        # over all of them
        self.put("/versions/1.0.0/options", {"isRetracted": True})
        self.assertEqual(self.listing()["latest"]["version"], "2.0.0-dev.1")
        self.put("/versions/2.0.0-dev.1/options", {"isRetracted": True})
        self.assertEqual(self.listing()["latest"]["version"], "1.1.0")
        r = self.put("/versions/1.1.0/options", {"isRetracted": False})
        self.assertEqual(r.json(), {"isRetracted": False})
        self.assertEqual(self.listing()["latest"]["version"], "1.1.0")
        self.assertPubError(self.put("/versions/9.0.0/options", {"isRetracted": True}), 404)
        self.assertPubError(self.put("/versions/1.0.0/options", {"isRetracted": 1}), 400)

    def test_who_may_change(self):
        # no token: 401 with pub's challenge
        r = self.pub("PUT", "/api/packages/%s/options" % self.name, json={"isDiscontinued": True})
        self.assertPubError(r, 401)
        self.assertIn("credential", server_message(r))
        # another user's valid token: 403, and the token is kept by the client
        _, other = self.pub_user()
        r = self.put("/versions/1.0.0/options", {"isRetracted": True}, auth="Bearer " + other)
        self.assertPubError(r, 403, "not an owner")
        self.assertIn("not an owner", server_message(r))
        # the owner's read-only token: 403 naming the scope
        ro = self.depot.create_token(self.user.bearer, self.uniq("ro"), ["read"]).json()["token"]
        r = self.put("/options", {"isDiscontinued": True}, auth="Bearer " + ro)
        self.assertPubError(r, 403, "manage:pub/%s" % self.name)
        r = self.put("/versions/1.0.0/options", {"isRetracted": True}, auth="Bearer " + ro)
        self.assertPubError(r, 403, "publish:pub/%s" % self.name)
        # the owner's publish token retracts, but does not manage the package
        r = self.put("/options", {"isDiscontinued": True}, auth=self.auth)
        self.assertPubError(r, 403, "manage:pub/%s" % self.name)
        self.assertIs(self.listing()["isDiscontinued"], False)

    def test_uploaders(self):
        r = self.pub("GET", "/api/packages/%s/uploaders" % self.name)
        self.assertStatus(r, 200)
        owners = r.json()["owners"]
        self.assertEqual([o["username"] for o in owners], [self.user.username])
        self.assertTime(owners[0]["added_at"])
        co, co_tok = self.pub_user()
        res = self.client(co_tok).publish(package(self.name, "3.0.0"), self.name)
        self.assertEqual(res.exit, 65, res)
        r = self.pub("PUT", "/api/packages/%s/uploaders/%s" % (self.name, co.username),
                     auth=self.auth)
        self.assertPubError(r, 403, "manage:pub/%s" % self.name)
        r = self.pub("PUT", "/api/packages/%s/uploaders/%s" % (self.name, co.username),
                     auth=self.mauth)
        self.assertStatus(r, 200)
        self.assertEqual(sorted(o["username"] for o in r.json()["owners"]),
                         sorted([self.user.username, co.username]))
        self.publish_ok(co_tok, self.name, "3.0.0")
        r = self.pub("DELETE", "/api/packages/%s/uploaders/%s" % (self.name, co.username),
                     auth=co.bearer)
        self.assertStatus(r, 200)
        self.assertEqual([o["username"] for o in r.json()["owners"]], [self.user.username])
        self.assertPubError(self.pub("DELETE", "/api/packages/%s/uploaders/%s"
                                     % (self.name, self.user.username), auth=self.mauth), 409, "last")
        self.assertPubError(self.pub("PUT", "/api/packages/%s/uploaders/%s"
                                     % (self.name, self.uniq("nobody")), auth=self.mauth), 404)
        self.assertPubError(self.pub("PUT", "/api/packages/%s/uploaders/%s"
                                     % (self.name, co.username), auth="Bearer " + co_tok), 403)
