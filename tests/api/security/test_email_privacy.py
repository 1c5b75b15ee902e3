"""Email addresses are private by default (issue 15, item 6).

No anonymous or foreign caller learns an address from any front: npm's user document and its
package documents (packument `maintainers` and `_npmUser`, search results) carry a no-reply
address, USERNAME@users.noreply.HOST, which npm accepts and which reveals nothing; Hex's user
and owner answers carry none, and no lookup by address (`GET /hex/api/users/<email>`, an owner
by address) finds a user for someone who may not see that address — a read token included. The
user themself and an admin acting as one still see it. Each user may choose to show the
address (`PUT /api/v1/me/settings {"show_email": true}`, or the dashboard's account page); then
everyone sees it where Hex and npm's user documents and profiles show addresses."""

import re

from apitest import DepotTestCase
from hex.hextest import HexTestCase, hex_tarball
from npm.npmtest import NpmTestCase


def noreply(depot, username):
    host = depot.url.split("://", 1)[1].split(":")[0]
    return "%s@users.noreply.%s" % (username, host)


class _Leaks:
    def assertNoAddress(self, r, *emails):
        """No byte of the answer holds any of the addresses (ETF, JSON or HTML alike)."""
        body = r.body.decode("utf-8", "replace").lower()
        for e in emails:
            self.assertNotIn(e.lower(), body, "%s leaked in %s" % (e, r.describe(300)))


class NpmEmails(NpmTestCase, _Leaks):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.register_user(prefix="npmalice")
        cls.pkg = cls.uniq("privpkg")

    def setUp(self):
        super().setUp()
        tok = self.npm_token(self.alice)
        r = self.npm_publish(tok, self.pkg, "1.0.0") if self.packument(self.pkg).status == 404 else None
        if r is not None:
            self.assertStatus(r, 201)

    def test_user_document_anonymous_and_foreign(self):
        stranger = self.register_user(prefix="npmstranger")
        for auth in (None, self.npm_token(stranger)):
            r = self.npm("GET", "/-/user/org.couchdb.user:" + self.alice.username, auth=auth)
            self.assertStatus(r, 200)
            self.assertNoAddress(r, self.alice.email)
            self.assertEqual(r.json()["email"], noreply(self.depot, self.alice.username),
                             "npm owner add needs an email: a no-reply one")
        # alice herself sees hers
        r = self.npm("GET", "/-/user/org.couchdb.user:" + self.alice.username, auth=self.npm_token(self.alice))
        self.assertEqual(r.json()["email"], self.alice.email)

    def test_packument_and_search(self):
        for corgi in (False, True):
            r = self.packument(self.pkg, corgi=corgi)
            self.assertStatus(r, 200)
            self.assertNoAddress(r, self.alice.email)
        p = self.packument(self.pkg).json()
        self.assertEqual(p["maintainers"], [{"name": self.alice.username,
                                             "email": noreply(self.depot, self.alice.username)}])
        self.assertEqual(p["versions"]["1.0.0"]["_npmUser"]["email"], noreply(self.depot, self.alice.username))
        r = self.npm("GET", "/%s/1.0.0" % self.pkg)
        self.assertStatus(r, 200)
        self.assertNoAddress(r, self.alice.email)
        r = self.npm("GET", "/-/v1/search?text=" + self.pkg)
        self.assertStatus(r, 200)
        self.assertNoAddress(r, self.alice.email)
        objs = r.json()["objects"]
        self.assertTrue(objs)
        m = objs[0]["package"]
        self.assertEqual(m["maintainers"][0]["email"], noreply(self.depot, self.alice.username))
        self.assertEqual(m["publisher"]["email"], noreply(self.depot, self.alice.username))

    def test_even_a_shown_address_stays_out_of_package_documents(self):
        # Package documents are the same for every reader and are cached and mirrored: they
        # never carry a real address, so hiding it again later leaves no copy behind.
        bob = self.register_user(prefix="npmbob")
        self.assertStatus(self.depot.show_email(bob.bearer), 200)
        name = self.uniq("shownpkg")
        self.assertStatus(self.npm_publish(self.npm_token(bob), name, "1.0.0"), 201)
        self.assertNoAddress(self.packument(name), bob.email)
        r = self.npm("GET", "/-/user/org.couchdb.user:" + bob.username)
        self.assertEqual(r.json()["email"], bob.email, "a user document shows a shown address")
        self.assertStatus(self.depot.show_email(bob.bearer, False), 200)
        r = self.npm("GET", "/-/user/org.couchdb.user:" + bob.username)
        self.assertNoAddress(r, bob.email)


class HexEmails(HexTestCase, _Leaks):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pkg = cls.uniq("privhex")
        r = cls.depot.request("POST", "/hex/api/packages/%s/releases?replace=false" % cls.pkg,
                              body=hex_tarball(cls.pkg, "1.0.0"),
                              headers={"Authorization": cls.key, "Content-Type": "application/octet-stream",
                                       "Accept": "application/vnd.hex+erlang"})
        assert r.status == 201, r.describe()

    def assertNotFoundAs(self, r, asked):
        """r is the 404 an unknown address gets: it names only what was asked, not the account."""
        t = self.assertHexError(r, 404)
        self.assertEqual(t["message"], "no user '%s'" % asked)

    def foreign_read_key(self):
        other = self.new_user(prefix="hexreader")
        return self.depot.create_token(other.bearer, "ro", ["read"]).json()["token"]

    def test_user_by_address_is_not_found_for_others(self):
        for key in (None, self.foreign_read_key()):
            r = self.api("GET", "/users/" + self.owner.email, key=key)
            self.assertNotFoundAs(r, self.owner.email)
        # an unknown address answers the same
        self.assertHexError(self.api("GET", "/users/nobody-%s@example.com" % self.uniq()), 404)
        # by username: a profile without the address
        r = self.api("GET", "/users/" + self.owner.username)
        self.assertStatus(r, 200)
        self.assertIsNone(self.term(r)["email"])
        self.assertNoAddress(r, self.owner.email)
        # the user themself finds their own address
        r = self.api("GET", "/users/" + self.owner.email, key=self.key)
        self.assertStatus(r, 200)
        self.assertEqual(self.term(r)["email"], self.owner.email)

    def test_owner_lists_with_a_foreign_read_token(self):
        ro = self.foreign_read_key()
        for key in (None, ro):
            for path in ("/packages/%s/owners" % self.pkg, "/packages/%s" % self.pkg,
                         "/packages/%s/owners/%s" % (self.pkg, self.owner.username)):
                r = self.api("GET", path, key=key)
                self.assertStatus(r, 200)
                self.assertNoAddress(r, self.owner.email)
            # an owner by address is not found for them
            r = self.api("GET", "/packages/%s/owners/%s" % (self.pkg, self.owner.email), key=key)
            self.assertHexError(r, 404)
        # the owner sees their own address; an admin acting as one sees it too
        lst = self.term(self.api("GET", "/packages/%s/owners" % self.pkg, key=self.key))
        self.assertEqual(lst[0]["email"], self.owner.email)
        adm = self.depot.create_token(self.admin.bearer, self.uniq("adm"), ["admin"]).json()["token"]
        lst = self.term(self.api("GET", "/packages/%s/owners" % self.pkg, key=adm))
        self.assertEqual(lst[0]["email"], self.owner.email)
        # an admin's read token does not act as an admin
        ro_adm = self.depot.create_token(self.admin.bearer, self.uniq("admro"), ["read"]).json()["token"]
        lst = self.term(self.api("GET", "/packages/%s/owners" % self.pkg, key=ro_adm))
        self.assertIsNone(lst[0]["email"])

    def test_owner_add_by_hidden_address_reveals_nothing(self):
        carol = self.new_user(prefix="hexcarol")
        name = self.uniq("ownaddr")
        self.published(name)
        r = self.api("PUT", "/packages/%s/owners/%s" % (name, carol.email), {"level": "full"}, key=self.key)
        self.assertNotFoundAs(r, carol.email)
        lst = self.term(self.api("GET", "/packages/%s/owners" % name, key=self.key))
        self.assertEqual([o["username"] for o in lst], [self.owner.username])

    def test_a_user_may_show_the_address(self):
        dave = self.new_user(prefix="hexdave")
        self.assertHexError(self.api("GET", "/users/" + dave.email), 404)
        r = self.depot.show_email(dave.bearer)
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"show_email": True})
        r = self.api("GET", "/users/" + dave.email)
        self.assertStatus(r, 200)
        self.assertEqual(self.term(r)["username"], dave.username)
        self.assertEqual(self.term(r)["email"], dave.email)
        me = self.depot.get("/api/v1/me", auth=dave.bearer).json()
        self.assertTrue(me["show_email"])
        prof = self.depot.get("/api/v1/users/" + dave.username).json()
        self.assertEqual(prof["email"], dave.email)
        self.assertStatus(self.depot.show_email(dave.bearer, False), 200)
        self.assertHexError(self.api("GET", "/users/" + dave.email), 404)
        prof = self.depot.get("/api/v1/users/" + dave.username).json()
        self.assertIsNone(prof["email"])


class Settings(DepotTestCase, _Leaks):

    def test_only_the_account_changes_its_setting(self):
        u = self.new_user(prefix="setter")
        self.assertFalse(self.depot.get("/api/v1/me", auth=u.bearer).json()["show_email"], "off by default")
        ro = self.depot.create_token(u.bearer, "ro", ["read"]).json()["token"]
        pub = self.depot.create_token(u.bearer, "pub", ["publish"]).json()["token"]
        for tok in (ro, pub):
            r = self.depot.request("PUT", "/api/v1/me/settings", json={"show_email": True},
                                   auth="Bearer " + tok)
            self.assertError(r, 403)
        self.assertError(self.depot.request("PUT", "/api/v1/me/settings", json={"show_email": True}), 401)
        self.assertError(self.depot.request("PUT", "/api/v1/me/settings", json={"show_email": "yes"},
                                            auth=u.bearer), 400)
        self.assertFalse(self.depot.get("/api/v1/me", auth=u.bearer).json()["show_email"])
        # the native profile never shows a hidden address, to anyone but its user's own /me
        self.assertNoAddress(self.depot.get("/api/v1/users/" + u.username), u.email)

    def test_dashboard_account_page_toggles_it(self):
        import os
        import sys
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "browser"))
        from webclient import WebClient
        u = self.new_user(prefix="webshow")
        w = WebClient(self.depot)
        self.assertEqual(w.login(u.username, u.password).status, 303)
        page = w.get("/account")
        self.assertIn("Only you and administrators see this address", page.text)
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        r = w.post("/account/email-visibility", {"csrf": m.group(1), "show": "1"})
        self.assertEqual(r.status, 303, r.describe())
        self.assertTrue(self.depot.get("/api/v1/me", auth=u.bearer).json()["show_email"])
        page = w.get("/account")
        self.assertIn("Everyone can see this address", page.text)
        self.assertIn(u.email, self.depot.get("/users/" + u.username).text, "the public page shows it now")
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        self.assertEqual(w.post("/account/email-visibility", {"csrf": m.group(1), "show": "0"}).status, 303)
        self.assertFalse(self.depot.get("/api/v1/me", auth=u.bearer).json()["show_email"])
        self.assertNoAddress(self.depot.get("/users/" + u.username), u.email)

