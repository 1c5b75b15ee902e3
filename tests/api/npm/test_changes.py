"""npm's changes to published packages, in the request shapes npm 11 sends: dist-tag
ls/add/rm, deprecate and undeprecate (the whole packument PUT back), unpublish of one version
(PUT -rev without it, then DELETE of its tarball) and of a whole package (DELETE -rev), the
unpublish window and tombstones, the stale-_rev guard, and owner ls/add/rm through
maintainers. Each refused for a non-owner."""

import copy

from npm.npmtest import NpmTestCase, esc, publish_doc


class Changes(NpmTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.register_user(prefix="al")
        cls.bob = cls.register_user(prefix="bo")

    def fresh(self, versions=("1.0.0", "1.1.0"), scoped=False):
        name = ("@%s/p" % self.uniq("s")) if scoped else self.uniq("p")
        for v in versions:
            self.assertStatus(self.npm_publish(self.alice.bearer, name, v), 201)
        return name

    def doc(self, name):
        return self.npm("GET", "/%s?write=true" % esc(name)).json()

    # ---- dist-tags ----------------------------------------------------------------------------

    def test_dist_tags(self):
        name = self.fresh()
        path = "/-/package/%s/dist-tags" % esc(name)
        self.assertEqual(self.npm("GET", path).json(), {"latest": "1.1.0"})
        r = self.npm("PUT", path + "/next", auth=self.alice.bearer, json_body="1.0.0")
        self.assertStatus(r, 201)
        self.assertEqual(self.npm("GET", path).json(), {"latest": "1.1.0", "next": "1.0.0"})
        self.assertEqual(self.packument(name).json()["dist-tags"]["next"], "1.0.0")
        # latest moves
        self.assertStatus(self.npm("PUT", path + "/latest", auth=self.alice.bearer, json_body="1.0.0"), 201)
        self.assertEqual(self.packument(name, corgi=True).json()["dist-tags"]["latest"], "1.0.0")
        self.assertStatus(self.npm("DELETE", path + "/next", auth=self.alice.bearer), 200)
        self.assertEqual(self.npm("GET", path).json(), {"latest": "1.0.0"})
        # refusals
        self.assertNpmError(self.npm("DELETE", path + "/next", auth=self.alice.bearer), 404)
        self.assertNpmError(self.npm("DELETE", path + "/latest", auth=self.alice.bearer), 422)
        self.assertNpmError(self.npm("PUT", path + "/next", auth=self.alice.bearer, json_body="9.9.9"), 404)
        self.assertNpmError(self.npm("PUT", path + "/1.0.0", auth=self.alice.bearer, json_body="1.0.0"), 422)
        self.assertNpmError(self.npm("PUT", path + "/next", auth=self.alice.bearer, json_body={"v": 1}), 400)
        self.assertNpmError(self.npm("PUT", path + "/next", auth=self.bob.bearer, json_body="1.0.0"), 403)
        self.assertNpmError(self.npm("PUT", path + "/next", json_body="1.0.0"), 401)
        self.assertNpmError(self.npm("GET", "/-/package/nosuch%s/dist-tags" % self.uniq("x")), 404)

    def test_scoped_dist_tags(self):
        name = self.fresh(scoped=True)
        path = "/-/package/%s/dist-tags" % esc(name)
        self.assertStatus(self.npm("PUT", path + "/beta", auth=self.alice.bearer, json_body="1.0.0"), 201)
        self.assertEqual(self.npm("GET", path).json()["beta"], "1.0.0")

    # ---- deprecate ----------------------------------------------------------------------------

    def test_deprecate_and_undeprecate(self):
        name = self.fresh()
        doc = self.doc(name)
        doc["versions"]["1.0.0"]["deprecated"] = "use 1.1.0 instead"
        doc["_attachments"] = {}
        r = self.npm("PUT", "/" + name, auth=self.alice.bearer, json_body=doc)
        self.assertStatus(r, 200)
        p = self.packument(name).json()
        self.assertEqual(p["versions"]["1.0.0"]["deprecated"], "use 1.1.0 instead")
        self.assertNotIn("deprecated", p["versions"]["1.1.0"])
        self.assertEqual(self.packument(name, corgi=True).json()["versions"]["1.0.0"]["deprecated"],
                         "use 1.1.0 instead")
        # undeprecate sends ""
        doc = self.doc(name)
        doc["versions"]["1.0.0"]["deprecated"] = ""
        self.assertStatus(self.npm("PUT", "/" + name, auth=self.alice.bearer, json_body=doc), 200)
        self.assertNotIn("deprecated", self.packument(name).json()["versions"]["1.0.0"])
        # a non-owner is refused, and nothing changes
        doc = self.doc(name)
        doc["versions"]["1.1.0"]["deprecated"] = "hijacked"
        self.assertNpmError(self.npm("PUT", "/" + name, auth=self.bob.bearer, json_body=doc), 403,
                            "not an owner")
        self.assertNotIn("deprecated", self.packument(name).json()["versions"]["1.1.0"])
        # a version that is not published cannot come in without its tarball
        doc = self.doc(name)
        doc["versions"]["3.0.0"] = copy.deepcopy(doc["versions"]["1.1.0"])
        self.assertNpmError(self.npm("PUT", "/" + name, auth=self.alice.bearer, json_body=doc), 400,
                            "no such version")
        # a plain PUT never removes versions
        doc = self.doc(name)
        del doc["versions"]["1.0.0"]
        self.assertStatus(self.npm("PUT", "/" + name, auth=self.alice.bearer, json_body=doc), 200)
        self.assertIn("1.0.0", self.packument(name).json()["versions"])

    # ---- unpublish ----------------------------------------------------------------------------

    def unpublish_one(self, name, version, auth):
        """npm unpublish NAME@VERSION: PUT -rev without it, then DELETE its tarball."""
        doc = self.doc(name)
        rev = doc["_rev"]
        tarball = doc["versions"][version]["dist"]["tarball"]
        del doc["versions"][version]
        doc["dist-tags"] = {k: v for k, v in doc["dist-tags"].items() if v != version}
        r = self.npm("PUT", "/%s/-rev/%s" % (esc(name), rev), auth=auth, json_body=doc)
        if r.status != 200:
            return r
        rev = self.doc(name)["_rev"]
        path = tarball[len(self.depot.url + "/npm"):]
        return self.npm("DELETE", "%s/-rev/%s" % (path, rev), auth=auth)

    def test_unpublish_one_version(self):
        for scoped in (False, True):
            name = self.fresh(("1.0.0", "1.1.0", "1.2.0"), scoped=scoped)
            self.assertNpmError(self.unpublish_one(name, "1.2.0", self.bob.bearer), 403)
            r = self.unpublish_one(name, "1.2.0", self.alice.bearer)
            self.assertStatus(r, 200)
            p = self.packument(name).json()
            self.assertEqual(sorted(p["versions"]), ["1.0.0", "1.1.0"])
            self.assertEqual(p["dist-tags"]["latest"], "1.1.0")
            base = name.split("/")[-1]
            self.assertNpmError(self.npm("GET", "/%s/-/%s-1.2.0.tgz" % (esc(name), base)), 404)
            # the number is never used again
            r = self.npm_publish(self.alice.bearer, name, "1.2.0")
            self.assertNpmError(r, 409, "never used again")

    def test_unpublish_needs_the_current_rev(self):
        name = self.fresh()
        doc = self.doc(name)
        stale = doc["_rev"]
        # someone publishes after npm read the document
        self.assertStatus(self.npm_publish(self.alice.bearer, name, "1.2.0"), 201)
        del doc["versions"]["1.1.0"]
        r = self.npm("PUT", "/%s/-rev/%s" % (name, stale), auth=self.alice.bearer, json_body=doc)
        self.assertNpmError(r, 409, "run the command again")
        self.assertEqual(sorted(self.packument(name).json()["versions"]), ["1.0.0", "1.1.0", "1.2.0"])
        self.assertNpmError(self.npm("DELETE", "/%s/-rev/%s" % (name, stale), auth=self.alice.bearer),
                            409)

    def test_unpublish_whole_package(self):
        name = self.fresh()
        rev = self.doc(name)["_rev"]
        self.assertNpmError(self.npm("DELETE", "/%s/-rev/%s" % (name, rev), auth=self.bob.bearer), 403)
        r = self.npm("DELETE", "/%s/-rev/%s" % (name, rev), auth=self.alice.bearer)
        self.assertStatus(r, 200)
        self.assertNpmError(self.packument(name), 404)
        self.assertNpmError(self.packument(name, corgi=True), 404)
        # the name stays with its owner; old numbers stay dead, new ones are fine
        self.assertNpmError(self.npm_publish(self.bob.bearer, name, "2.0.0"), 403)
        self.assertNpmError(self.npm_publish(self.alice.bearer, name, "1.0.0"), 409)
        self.assertStatus(self.npm_publish(self.alice.bearer, name, "2.0.0"), 201)

    def test_delete_tarball_directly(self):
        name = self.fresh()
        rev = self.doc(name)["_rev"]
        r = self.npm("DELETE", "/%s/-/%s-1.0.0.tgz/-rev/%s" % (name, name, rev), auth=self.alice.bearer)
        self.assertStatus(r, 200)
        self.assertEqual(list(self.packument(name).json()["versions"]), ["1.1.0"])
        # again: already gone is fine (npm counts a 404 here as done, too)
        self.assertStatus(self.npm("DELETE", "/%s/-/%s-1.0.0.tgz/-rev/x" % (name, name),
                                   auth=self.alice.bearer), 200)
        self.assertNpmError(self.npm("DELETE", "/%s/-/%s-7.0.0.tgz/-rev/x" % (name, name),
                                     auth=self.alice.bearer), 404)

    def test_window(self):
        d = self.make_depot(extra_args=["--unpublish-window", "0"])
        u = self.register_user(depot=d, prefix="w")
        name = self.uniq("w")
        for v in ("1.0.0", "1.1.0"):
            self.assertStatus(self.npm_publish(u.bearer, name, v, depot=d), 201)
        doc = self.npm("GET", "/" + name, depot=d).json()
        del doc["versions"]["1.1.0"]
        r = self.npm("PUT", "/%s/-rev/%s" % (name, doc["_rev"]), auth=u.bearer, json_body=doc, depot=d)
        self.assertNpmError(r, 403, "does not allow unpublishing")
        self.assertEqual(len(self.npm("GET", "/" + name, depot=d).json()["versions"]), 2)

    # ---- owners ------------------------------------------------------------------------------

    def owners(self, name, names, auth):
        doc = self.doc(name)
        body = {"_id": name, "_rev": doc["_rev"],
                "maintainers": [{"name": n, "email": n + "@example.com"} for n in names]}
        return self.npm("PUT", "/%s/-rev/%s" % (esc(name), doc["_rev"]), auth=auth, json_body=body)

    def test_owners(self):
        name = self.fresh()
        # what npm owner add reads first
        self.assertStatus(self.npm("GET", "/-/user/org.couchdb.user:" + self.bob.username), 200)
        self.assertNpmError(self.owners(name, [self.alice.username, self.bob.username], self.bob.bearer), 403)
        r = self.owners(name, [self.alice.username, self.bob.username], self.alice.bearer)
        self.assertStatus(r, 200)
        self.assertTrue(r.json())  # npm needs a JSON answer here
        ms = self.packument(name).json()["maintainers"]
        self.assertEqual(sorted(m["name"] for m in ms), sorted([self.alice.username, self.bob.username]))
        # bob may publish now, then remove alice
        self.assertStatus(self.npm_publish(self.bob.bearer, name, "1.2.0"), 201)
        self.assertStatus(self.owners(name, [self.bob.username], self.bob.bearer), 200)
        self.assertEqual([m["name"] for m in self.packument(name).json()["maintainers"]], [self.bob.username])
        self.assertNpmError(self.npm_publish(self.alice.bearer, name, "1.3.0"), 403)
        # no owners at all, or an unknown user
        self.assertNpmError(self.owners(name, [], self.bob.bearer), 409)
        self.assertNpmError(self.owners(name, [self.bob.username, "nobody" + self.uniq("z")], self.bob.bearer),
                            404)
