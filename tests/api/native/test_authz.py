"""Authorization of every native write (publish new, publish existing, yank, unyank, owner add,
owner remove, settings) against every kind of credential that must be refused: none (401), a
bad one (401), a read-only token, a token narrowed to another package or to another ecosystem,
and a non-owner's full credential (403); the package-level operations (owners, settings) also
against the owner's own publish tokens, whole or narrowed to the package, and an admin who is no
owner (403). After each refusal the package is as it was. A token narrowed to the right package
is allowed: with publish for versions, with manage for owners and settings."""

import base64
import itertools

from native.nativetest import PACKAGES, NativeTestCase, manifest

BAD_TOKEN = "Bearer dpt_" + "A" * 43

_ver = itertools.count(1)


def _op_publish_new(t, auth):
    name = t.pkgname("new")
    r, _ = t.publish(auth, name, "1.0.0")
    return r, name


def _op_publish_existing(t, auth, name=None):
    name = name or t.pkg
    r, _ = t.publish(auth, name, "9.%d.0" % next(_ver))
    return r, name


def _op_yank(t, auth, name=None):
    name = name or t.pkg
    return t.depot.request("PUT", "%s/%s/versions/1.1.0/yank" % (PACKAGES, name),
                           auth=auth), name


def _op_unyank(t, auth, name=None):
    name = name or t.pkg
    return t.depot.request("DELETE", "%s/%s/versions/1.0.0/yank" % (PACKAGES, name),
                           auth=auth), name


def _op_owner_add(t, auth, name=None):
    name = name or t.pkg
    return t.depot.request("PUT", "%s/%s/owners/%s" % (PACKAGES, name, t.candidate.username),
                           auth=auth), name


def _op_owner_remove(t, auth, name=None):
    name = name or t.pkg
    return t.depot.request("DELETE", "%s/%s/owners/%s" % (PACKAGES, name, t.co.username),
                           auth=auth), name


def _op_settings(t, auth, name=None):
    name = name or t.pkg
    return t.depot.request("PUT", "%s/%s/settings" % (PACKAGES, name),
                           json={"require_signatures": True}, auth=auth), name


OPS = {
    "publish_new": _op_publish_new,
    "publish_existing": _op_publish_existing,
    "yank": _op_yank,
    "unyank": _op_unyank,
    "owner_add": _op_owner_add,
    "owner_remove": _op_owner_remove,
    "settings": _op_settings,
}

# credential kind -> (expected status, how to get the Authorization value)
CREDS = {
    "no_credential": (401, lambda t: None),
    "bad_credential": (401, lambda t: BAD_TOKEN),
    "bad_jwt": (401, lambda t: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.bm9wZQ"),
    "bad_password": (401, lambda t: t.owner_basic_wrong),
    "read_only_token": (403, lambda t: t.tok_read),
    "token_for_another_package": (403, lambda t: t.tok_other_pkg),
    "token_for_another_ecosystem": (403, lambda t: t.tok_hex),
    "non_owner": (403, lambda t: t.stranger.bearer),
    "non_owner_publish_token": (403, lambda t: t.tok_stranger),
}


# Operations on the package itself (owners, settings) need manage, which no publish scope
# carries; an admin is refused like any non-owner.
MANAGE_OPS = ("owner_add", "owner_remove", "settings")
MANAGE_CREDS = {
    "owner_publish_token": (403, lambda t: t.tok_publish),
    "owner_package_publish_token": (403, lambda t: t.tok_pkg_publish),
    "admin_not_owner": (403, lambda t: t.admin.bearer),
}


class Authz(NativeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="own")
        cls.co = cls.register_user(prefix="co")
        cls.stranger = cls.register_user(prefix="str")
        cls.candidate = cls.register_user(prefix="cand")
        cls.pkg = cls.uniq("authz")
        d = cls.depot
        for v in ("1.0.0", "1.1.0"):
            r = d.publish(cls.tarball_for(cls.pkg, v), metadata=manifest(cls.pkg, v),
                          auth=cls.owner.bearer)
            assert r.status == 201, r.describe()
        r = d.request("PUT", "%s/%s/versions/1.0.0/yank" % (PACKAGES, cls.pkg),
                      auth=cls.owner.bearer)
        assert r.status == 200, r.describe()
        r = d.request("PUT", "%s/%s/owners/%s" % (PACKAGES, cls.pkg, cls.co.username),
                      auth=cls.owner.bearer)
        assert r.status == 200, r.describe()

        def tok(user, scopes):
            r = d.create_token(user.bearer, cls.uniq("tok"), scopes)
            assert r.status == 201, r.describe()
            return "Bearer " + r.json()["token"]

        cls.tok_read = tok(cls.owner, ["read"])
        cls.tok_other_pkg = tok(cls.owner, ["read", "publish:native/" + cls.uniq("other")])
        cls.tok_hex = tok(cls.owner, ["read", "publish:hex"])
        cls.tok_stranger = tok(cls.stranger, ["publish"])
        cls.tok_publish = tok(cls.owner, ["read", "publish"])
        cls.tok_pkg_publish = tok(cls.owner, ["read", "publish:native/" + cls.pkg])
        cls.owner_basic_wrong = "Basic " + base64.b64encode(
            ("%s:wrong-password" % cls.owner.username).encode()).decode()

    def check_refused(self, op, cred):
        status, get = CREDS[cred] if cred in CREDS else MANAGE_CREDS[cred]
        before = self.state(self.pkg)
        self.assertEqual(before["owners"], sorted([self.owner.username, self.co.username]))
        r, name = OPS[op](self, get(self))
        self.assertError(r, status)
        self.assertEqual(self.state(self.pkg), before, "a refused %s changed the package" % op)
        if op == "publish_new":
            self.assertIsNone(self.state(name), "a refused publish created %s" % name)

    # ---- allowed with the right narrow token ---------------------------------------------

    def fresh_package(self, right="publish"):
        """A package like the shared one (1.0.0 yanked, 1.1.0, owners owner+co) and a token
        narrowed to it with the right (publish or manage)."""
        name = self.pkgname("ok")
        for v in ("1.0.0", "1.1.0"):
            self.published(self.owner.bearer, name, v)
        self.assertStatus(self.depot.request(
            "PUT", "%s/%s/versions/1.0.0/yank" % (PACKAGES, name), auth=self.owner.bearer), 200)
        self.assertStatus(self.depot.request(
            "PUT", "%s/%s/owners/%s" % (PACKAGES, name, self.co.username),
            auth=self.owner.bearer), 200)
        secret, _ = self.make_token(self.owner.bearer, ["%s:native/%s" % (right, name)])
        return name, "Bearer " + secret

    def test_publish_new_allowed_with_package_token(self):
        name = self.pkgname("narrow")
        secret, _ = self.make_token(self.owner.bearer, ["publish:native/" + name])
        doc, _ = self.published("Bearer " + secret, name, "1.0.0")
        self.assertIs(doc["created_package"], True)
        self.assertEqual(self.state(name)["owners"], [self.owner.username])

    def test_publish_existing_allowed_with_package_token(self):
        name, auth = self.fresh_package()
        r, _ = _op_publish_existing(self, auth, name)
        self.assertJSON(r, 201)
        self.assertEqual(len(self.state(name)["versions"]), 3)

    def test_publish_allowed_with_ecosystem_token(self):
        name, _ = self.fresh_package()
        secret, _ = self.make_token(self.owner.bearer, ["publish:native"])
        r, _ = _op_publish_existing(self, "Bearer " + secret, name)
        self.assertJSON(r, 201)

    def test_yank_allowed_with_package_token(self):
        name, auth = self.fresh_package()
        r, _ = _op_yank(self, auth, name)
        self.assertIs(self.assertJSON(r)["yanked"], True)
        self.assertIn(("1.1.0", True), [v[:2] for v in self.state(name)["versions"]])

    def test_unyank_allowed_with_package_token(self):
        name, auth = self.fresh_package()
        r, _ = _op_unyank(self, auth, name)
        self.assertIs(self.assertJSON(r)["yanked"], False)
        self.assertIn(("1.0.0", False), [v[:2] for v in self.state(name)["versions"]])

    def test_owner_add_allowed_with_package_manage_token(self):
        name, auth = self.fresh_package("manage")
        r, _ = _op_owner_add(self, auth, name)
        self.assertJSON(r)
        self.assertIn(self.candidate.username, self.state(name)["owners"])

    def test_owner_remove_allowed_with_package_manage_token(self):
        name, auth = self.fresh_package("manage")
        r, _ = _op_owner_remove(self, auth, name)
        self.assertJSON(r)
        self.assertEqual(self.state(name)["owners"], [self.owner.username])

    def test_settings_allowed_with_package_manage_token(self):
        name, auth = self.fresh_package("manage")
        r, _ = _op_settings(self, auth, name)
        self.assertEqual(self.assertJSON(r), {"require_signatures": True})
        self.assertIs(self.state(name)["require_signatures"], True)

    def test_co_owner_may_write(self):
        name, _ = self.fresh_package()
        r, _ = _op_publish_existing(self, self.co.bearer, name)
        self.assertJSON(r, 201)
        r, _ = _op_yank(self, self.co.bearer, name)
        self.assertJSON(r)


def _refusal_test(op, cred):
    def t(self):
        self.check_refused(op, cred)
    t.__doc__ = "%s with %s is refused (%d) and changes nothing" % (
        op, cred, (CREDS.get(cred) or MANAGE_CREDS[cred])[0])
    return t


for _op in OPS:
    for _cred in CREDS:
        if _op == "publish_new" and _cred.startswith("non_owner"):
            continue  # a new package has no owners yet: anyone with publish scope may create it
        setattr(Authz, "test_%s_%s" % (_op, _cred), _refusal_test(_op, _cred))
for _op in MANAGE_OPS:
    for _cred in MANAGE_CREDS:
        setattr(Authz, "test_%s_%s" % (_op, _cred), _refusal_test(_op, _cred))
