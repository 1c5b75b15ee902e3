"""The permission model, as the second security pass found it broken (each test is one of its
reproductions, which passed on the server before the fix):

1. a package-scoped publish token turned "require signatures" off, published unsigned, and
   turned it back on;
2. a package-scoped publish token added an owner, who then removed the token's user, on every
   front (native, Hex, npm maintainers, pub uploaders);
7. tokens minted more than they are: an expiring publish:hex token made a lasting Hex key, a
   publish:hex token deleted a wider token, a read-only token listed every token on Hex;
10. admins acted on any package.

Publishing a version is one right (publish scopes), managing a package another (manage scopes,
a password or a session): see src/core/auth.h and SECURITY.md."""

import base64
import time

from apitest import bearer, format_time
from hex.hextest import hex_tarball
from native.nativetest import manifest, targz
from npm.npmtest import publish_doc
from pub.dartpub import DartPub, package
from security.sectest import SecurityTestCase

JSON = {"Accept": "application/json"}


class Permissions(SecurityTestCase):
    fixtures = False

    def setUp(self):
        super().setUp()
        self.alice = self.new_user(prefix="alice")
        self.bob = self.new_user(prefix="bob")

    def tok(self, user, scopes, expires_in=None):
        exp = format_time(time.time() + expires_in) if expires_in else None
        secret, name = self.make_token(user.bearer, scopes, expires_at=exp)
        return secret, name

    def native_package(self, name):
        r = self.depot.publish(targz({"a.txt": name}), metadata=manifest(name, "1.0.0"),
                               auth=self.alice.bearer)
        self.assertStatus(r, 201)

    def owners(self, path):
        r = self.depot.get(path, headers=JSON)
        self.assertStatus(r, 200)
        doc = r.json()
        rows = doc["owners"] if isinstance(doc, dict) else doc
        return sorted(o["username"] for o in rows)

    # ---- 1 ------------------------------------------------------------------------------------

    def test_1_package_token_cannot_lift_require_signatures(self):
        name = self.uniq("alpkg")
        self.native_package(name)
        r = self.depot.request("PUT", "/api/v1/packages/%s/settings" % name,
                               json={"require_signatures": True}, auth=self.alice.bearer)
        self.assertStatus(r, 200)
        tok, _ = self.tok(self.alice, ["publish:native/" + name])
        r = self.depot.request("PUT", "/api/v1/packages/%s/settings" % name,
                               json={"require_signatures": False}, auth=bearer(tok))
        self.assertError(r, 403, field="manage:native/" + name)
        r = self.depot.publish(targz({"a.txt": "unsigned"}), metadata=manifest(name, "1.0.1"),
                               auth=bearer(tok))
        self.assertError(r, 422)
        r = self.depot.get("/api/v1/packages/" + name)
        self.assertIs(r.json()["require_signatures"], True)

    # ---- 2 ------------------------------------------------------------------------------------

    def test_2_native_package_token_cannot_take_over(self):
        name = self.uniq("victimpkg")
        self.native_package(name)
        tok, tname = self.tok(self.alice, ["publish:native/" + name])
        r = self.depot.request("PUT", "/api/v1/packages/%s/owners/%s" % (name, self.bob.username),
                               auth=bearer(tok))
        self.assertError(r, 403)
        self.depot.delete("/api/v1/tokens/" + tname, auth=self.alice.bearer)
        self.assertEqual(self.owners("/api/v1/packages/%s/owners" % name), [self.alice.username])
        # with a token made to manage it, the owner may
        mtok, _ = self.tok(self.alice, ["manage:native/" + name])
        r = self.depot.request("PUT", "/api/v1/packages/%s/owners/%s" % (name, self.bob.username),
                               auth=bearer(mtok))
        self.assertStatus(r, 200)

    def test_2_hex_package_key_cannot_take_over(self):
        name = self.uniq("victim_hex")
        tok, _ = self.tok(self.alice, ["publish:hex/" + name])
        r = self.depot.request("POST", "/hex/api/publish", body=hex_tarball(name, "1.0.0"),
                               headers={"Authorization": tok,
                                        "Content-Type": "application/octet-stream"})
        self.assertStatus(r, 201)
        r = self.depot.request("PUT", "/hex/api/packages/%s/owners/%s" % (name, self.bob.username),
                               json={"level": "full"}, headers=dict(JSON, Authorization=tok))
        self.assertStatus(r, 403)
        self.assertEqual(self.owners("/hex/api/packages/%s/owners" % name), [self.alice.username])

    def test_2_npm_package_token_cannot_take_over(self):
        name = self.uniq("victim-npm")
        tok, _ = self.tok(self.alice, ["read", "publish:npm/" + name])
        r = self.depot.request("PUT", "/npm/" + name, json=publish_doc(name, "1.0.0"),
                               auth=bearer(tok))
        self.assertStatus(r, 201)
        doc = self.depot.get("/npm/" + name).json()
        doc["maintainers"] = [{"name": self.alice.username}, {"name": self.bob.username}]
        r = self.depot.request("PUT", "/npm/%s/-rev/%s" % (name, doc["_rev"]), json=doc,
                               auth=bearer(tok))
        self.assertStatus(r, 403)
        # nor remove the whole package
        r = self.depot.request("DELETE", "/npm/%s/-rev/%s" % (name, doc["_rev"]),
                               auth=bearer(tok))
        self.assertStatus(r, 403)
        maint = sorted(m["name"] for m in self.depot.get("/npm/" + name).json()["maintainers"])
        self.assertEqual(maint, [self.alice.username])

    def test_2_pub_package_token_cannot_take_over(self):
        name = self.uniq("victim_pub")
        tok, _ = self.tok(self.alice, ["read", "publish:pub/" + name])
        res = DartPub(self.depot, self.depot.url + "/pub", token=tok).publish(
            package(name, "1.0.0"), name)
        self.assertEqual(res.exit, 0, res)
        r = self.depot.request("PUT", "/pub/api/packages/%s/uploaders/%s"
                               % (name, self.bob.username), auth=bearer(tok),
                               headers={"Accept": "application/vnd.pub.v2+json"})
        self.assertStatus(r, 403)
        self.assertEqual(self.owners("/pub/api/packages/%s/uploaders" % name),
                         [self.alice.username])

    # ---- 7 ------------------------------------------------------------------------------------

    def test_7_expiring_token_cannot_mint_a_lasting_hex_key(self):
        tok, _ = self.tok(self.alice, ["publish:hex"], expires_in=20)
        r = self.depot.post("/hex/api/keys", json={"name": "forever"},
                            headers=dict(JSON, Authorization=tok))
        self.assertStatus(r, 403)
        # a key that may manage makes only keys that end with it
        mtok, _ = self.tok(self.alice, ["publish:hex", "manage:hex"], expires_in=3)
        r = self.depot.post("/hex/api/keys", json={"name": "child"},
                            headers=dict(JSON, Authorization=mtok))
        self.assertStatus(r, 201)
        child = r.json()["secret"]
        self.assertIsNotNone(r.json()["revoke_at"])
        time.sleep(4.2)
        r = self.depot.get("/hex/api/users/me", headers=dict(JSON, Authorization=child))
        self.assertStatus(r, 401)

    def test_7_narrow_token_cannot_delete_a_wider_one(self):
        _, wide = self.tok(self.alice, ["publish"])
        narrow, _ = self.tok(self.alice, ["publish:hex"])
        r = self.depot.delete("/hex/api/keys/" + wide, headers=dict(JSON, Authorization=narrow))
        self.assertStatus(r, 403)
        names = [t["name"] for t in self.depot.get("/api/v1/tokens",
                                                   auth=self.alice.bearer).json()["tokens"]]
        self.assertIn(wide, names)

    def test_7_read_token_cannot_list_tokens_on_hex(self):
        ro, _ = self.tok(self.alice, ["read"])
        r = self.depot.get("/hex/api/keys", headers=dict(JSON, Authorization=ro))
        self.assertStatus(r, 403)
        self.assertNotIn(b"scopes", r.body)
        self.assertNotIn(b"permissions", r.body)

    # ---- 10 -----------------------------------------------------------------------------------

    def test_10_admins_do_not_act_on_others_packages(self):
        name = self.uniq("adminpkg")
        self.native_package(name)
        adm = self.admin.bearer
        for method, path, body in (
                ("PUT", "/api/v1/packages/%s/versions/1.0.0/yank" % name, None),
                ("PUT", "/api/v1/packages/%s/owners/%s" % (name, self.admin.username), None),
                ("PUT", "/api/v1/packages/%s/settings" % name, {"require_signatures": True})):
            r = self.depot.request(method, path, json=body, auth=adm)
            self.assertError(r, 403, field="not an owner")
        doc = self.depot.get("/api/v1/packages/" + name).json()
        self.assertEqual(self.owners("/api/v1/packages/%s/owners" % name), [self.alice.username])
        self.assertIs(doc["require_signatures"], False)
        # an admin's token with the admin scope is no different
        atok, _ = self.tok(self.admin, ["admin"])
        r = self.depot.request("PUT", "/api/v1/packages/%s/versions/1.0.0/yank" % name,
                               auth=bearer(atok))
        self.assertError(r, 403)

    def test_10_the_override_is_the_server_side_cli(self):
        """For a package whose owners are gone, someone with the server's store makes one of
        its owners a manage token (audited as token.create) and changes the owners with it."""
        name = self.uniq("orphan")
        self.native_package(name)
        p = self.depot.cli("token", "create", self.alice.username, "rescue", "--scopes",
                           "manage:native/" + name)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.depot.request("PUT", "/api/v1/packages/%s/owners/%s"
                               % (name, self.bob.username), auth=bearer(p.stdout.strip()))
        self.assertStatus(r, 200)
        self.assertEqual(self.owners("/api/v1/packages/%s/owners" % name),
                         sorted([self.alice.username, self.bob.username]))

    def test_10_admin_basic_password_is_no_owner_either(self):
        name = self.uniq("adminpkg")
        self.native_package(name)
        basic = "Basic " + base64.b64encode(
            ("%s:%s" % (self.admin.username, self.admin.password)).encode()).decode()
        r = self.depot.request("PUT", "/api/v1/packages/%s/owners/%s"
                               % (name, self.admin.username), auth=basic)
        self.assertError(r, 403)
        self.assertEqual(self.owners("/api/v1/packages/%s/owners" % name), [self.alice.username])
