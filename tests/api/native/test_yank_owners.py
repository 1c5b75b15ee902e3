"""Yank and unyank (downloads, latest, resolve), and package owners (list, add, remove, the
last owner)."""

from apitest import RFC3339_UTC
from native.nativetest import PACKAGES, NativeTestCase


class Yank(NativeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="yk")

    def yank(self, name, version, on=True, auth=None):
        return self.depot.request("PUT" if on else "DELETE",
                                  "%s/%s/versions/%s/yank" % (PACKAGES, name, version),
                                  auth=auth or self.owner.bearer)

    def picked(self, name, req, **extra):
        r = self.resolve({name: req}, **extra)
        return self.assertJSON(r)["packages"][name]["version"]

    def test_yank_and_unyank(self):
        name = self.pkgname("yk")
        self.published(self.owner.bearer, name, "1.0.0")
        _, tb = self.published(self.owner.bearer, name, "1.1.0")
        self.assertEqual(self.package(name)["latest"], "1.1.0")
        self.assertEqual(self.picked(name, "^1.0"), "1.1.0")

        doc = self.assertJSON(self.yank(name, "1.1.0"))
        self.assertEqual(doc["version"], "1.1.0")
        self.assertIs(doc["yanked"], True)
        self.assertRegex(doc.get("yanked_at") or "", RFC3339_UTC)

        pkg = self.package(name)
        self.assertEqual(pkg["latest"], "1.0.0")
        self.assertEqual([(v["version"], v["yanked"]) for v in pkg["versions"]],
                         [("1.1.0", True), ("1.0.0", False)])
        self.assertIs(self.assertJSON(self.depot.get(
            "%s/%s/versions/1.1.0" % (PACKAGES, name)))["yanked"], True)
        # still downloadable by exact version
        for path in ("%s/%s/versions/1.1.0/download" % (PACKAGES, name),
                     "%s/%s/1.1.0/download" % (PACKAGES, name)):
            r = self.depot.get(path)
            self.assertStatus(r, 200)
            self.assertEqual(r.body, tb)
        # resolve never picks it unless pinned
        for req, want in (("^1.0", "1.0.0"), ("*", "1.0.0"), (">=1.0.0", "1.0.0"),
                          ("1.0.0 - 2.0.0", "1.0.0"), ("~1.1", None), (">=1.1.0", None),
                          (">=1.1.0 || <1.0.0", None)):
            with self.subTest(req=req):
                r = self.resolve({name: req})
                if want:
                    self.assertEqual(self.assertJSON(r)["packages"][name]["version"], want)
                else:
                    self.assertUnresolvable(r, name)
        self.assertEqual(self.picked(name, "^1.0"), "1.0.0")
        self.assertEqual(self.picked(name, "=1.1.0"), "1.1.0")
        # the summary in search shows the new latest
        s = self.assertJSON(self.depot.get("/api/v1/search?q=" + name))
        self.assertEqual([(p["name"], p["latest"]) for p in s["packages"]], [(name, "1.0.0")])

        doc = self.assertJSON(self.yank(name, "1.1.0", on=False))
        self.assertIs(doc["yanked"], False)
        self.assertEqual(self.package(name)["latest"], "1.1.0")
        self.assertEqual(self.picked(name, "^1.0"), "1.1.0")
        self.assertEqual([(v["version"], v["yanked"]) for v in self.package(name)["versions"]],
                         [("1.1.0", False), ("1.0.0", False)])

    def test_yank_twice_and_unyank_twice_are_harmless(self):
        name = self.pkgname("yk")
        self.published(self.owner.bearer, name, "1.0.0")
        self.published(self.owner.bearer, name, "2.0.0")
        for _ in range(2):
            r = self.yank(name, "2.0.0")
            self.assertIn(r.status, (200, 409), r.describe())
            if r.status >= 400:
                self.assertError(r, 409)
        self.assertEqual(self.package(name)["latest"], "1.0.0")
        for _ in range(2):
            r = self.yank(name, "2.0.0", on=False)
            self.assertIn(r.status, (200, 409), r.describe())
            if r.status >= 400:
                self.assertError(r, 409)
        self.assertEqual(self.package(name)["latest"], "2.0.0")

    def test_every_version_yanked(self):
        name = self.pkgname("yk")
        _, tb = self.published(self.owner.bearer, name, "1.0.0")
        self.assertJSON(self.yank(name, "1.0.0"))
        self.assertIsNone(self.package(name)["latest"])
        self.assertUnresolvable(self.resolve({name: "^1.0"}), name)
        self.assertEqual(self.picked(name, "=1.0.0"), "1.0.0")
        self.assertEqual(self.depot.get("%s/%s/1.0.0/download" % (PACKAGES, name)).body, tb)

    def test_yank_unknown_version_is_404(self):
        name = self.pkgname("yk")
        self.published(self.owner.bearer, name, "1.0.0")
        self.assertError(self.yank(name, "1.0.1"), 404)
        self.assertError(self.yank(name, "1.0.1", on=False), 404)
        self.assertError(self.yank(self.pkgname("none"), "1.0.0"), 404)


class Owners(NativeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="ow")

    def owners(self, name):
        return self.assertJSON(self.depot.get("%s/%s/owners" % (PACKAGES, name)))["owners"]

    def add(self, name, username, auth=None):
        return self.depot.request("PUT", "%s/%s/owners/%s" % (PACKAGES, name, username),
                                  auth=auth or self.owner.bearer)

    def remove(self, name, username, auth=None):
        return self.depot.request("DELETE", "%s/%s/owners/%s" % (PACKAGES, name, username),
                                  auth=auth or self.owner.bearer)

    def test_list(self):
        name = self.pkgname("ow")
        self.published(self.owner.bearer, name, "1.0.0")
        os_ = self.owners(name)
        self.assertEqual(len(os_), 1)
        o = os_[0]
        self.assertEqual(o["username"], self.owner.username)
        self.assertIsInstance(o["level"], str)
        self.assertRegex(o["added_at"], RFC3339_UTC)

    def test_add_then_new_owner_can_publish_then_remove(self):
        name = self.pkgname("ow")
        self.published(self.owner.bearer, name, "1.0.0")
        friend = self.new_user(prefix="fr")
        r, _ = self.publish(friend.bearer, name, "1.1.0")
        self.assertError(r, 403)
        doc = self.assertJSON(self.add(name, friend.username))
        self.assertEqual(sorted(o["username"] for o in doc["owners"]),
                         sorted([self.owner.username, friend.username]))
        self.assertEqual(sorted(o["username"] for o in self.owners(name)),
                         sorted([self.owner.username, friend.username]))
        self.assertIn(friend.username, [o["username"] for o in self.package(name)["owners"]])
        doc, _ = self.published(friend.bearer, name, "1.1.0")
        self.assertEqual(doc["publisher"], friend.username)
        prof = self.assertJSON(self.depot.get("/api/v1/users/" + friend.username))
        self.assertIn(name, [p["name"] for p in prof["packages"]])
        # the new owner may manage owners too: it removes the first one
        doc = self.assertJSON(self.remove(name, self.owner.username, auth=friend.bearer))
        self.assertEqual([o["username"] for o in doc["owners"]], [friend.username])
        r, _ = self.publish(self.owner.bearer, name, "1.2.0")
        self.assertError(r, 403)
        self.assertEqual(self.versions(name), ["1.1.0", "1.0.0"])

    def test_add_unknown_user_is_404(self):
        name = self.pkgname("ow")
        self.published(self.owner.bearer, name, "1.0.0")
        self.assertError(self.add(name, self.uniq("ghost")), 404)
        self.assertEqual([o["username"] for o in self.owners(name)], [self.owner.username])

    def test_add_existing_owner_is_409(self):
        name = self.pkgname("ow")
        self.published(self.owner.bearer, name, "1.0.0")
        self.assertError(self.add(name, self.owner.username), 409)
        friend = self.new_user(prefix="fr")
        self.assertJSON(self.add(name, friend.username))
        self.assertError(self.add(name, friend.username), 409)
        self.assertEqual(len(self.owners(name)), 2)

    def test_remove_non_owner_is_404(self):
        name = self.pkgname("ow")
        self.published(self.owner.bearer, name, "1.0.0")
        other = self.new_user(prefix="no")
        self.assertError(self.remove(name, other.username), 404)
        self.assertError(self.remove(name, self.uniq("ghost")), 404)

    def test_last_owner_cannot_be_removed(self):
        name = self.pkgname("ow")
        self.published(self.owner.bearer, name, "1.0.0")
        self.assertError(self.remove(name, self.owner.username), 409)
        self.assertEqual([o["username"] for o in self.owners(name)], [self.owner.username])
        friend = self.new_user(prefix="fr")
        self.assertJSON(self.add(name, friend.username))
        self.assertJSON(self.remove(name, friend.username))
        self.assertError(self.remove(name, self.owner.username), 409)
        self.assertEqual([o["username"] for o in self.owners(name)], [self.owner.username])

    def test_owner_is_named_by_username_not_email(self):
        # {username} is a username (as /users/{username} treats it): an email must not find the
        # account, or any package owner could learn which username holds an email address
        name = self.pkgname("ow")
        self.published(self.owner.bearer, name, "1.0.0")
        friend = self.new_user(prefix="fr")
        r = self.add(name, friend.email)
        self.assertError(r, 404)
        self.assertNotIn("owners", r.text)  # the 404 names only what was asked (the email holds the username here)
        self.assertEqual([o["username"] for o in self.owners(name)], [self.owner.username])
        self.assertError(self.depot.get("/api/v1/users/" + friend.email), 404)
