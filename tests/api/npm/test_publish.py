"""npm publish: PUT /npm/NAME with npm's publish document. The happy paths (plain, scoped,
second version merged, prerelease under a tag, dependencies), every check on the document
(integrity, shasum, length, names, the tarball's own package.json, one version, one tag, one
.tgz, base64), immutability (the same version again, an unpublished number), who may publish
(anonymous, read-only token, non-owner, npm login token) and the error shape npm prints."""

import base64
import copy

from npm.npmtest import (NpmTestCase, esc, integrity, npm_tarball, publish_doc,  # noqa: F401
                         shasum)


class Publish(NpmTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.register_user(prefix="alice")
        cls.bob = cls.register_user(prefix="bob")

    def test_publish_and_read_back(self):
        name = self.uniq("pkg")
        r = self.npm_publish(self.alice.bearer, name, "1.0.0",
                             pkg={"keywords": ["pad", "string"], "dependencies": {"left": "^1.0.0"},
                                  "devDependencies": {"tap": "^16"}},
                             readme="# hello\n\nA readme.")
        self.assertStatus(r, 201)
        self.assertEqual(r.json()["id"], name)
        p = self.packument(name).json()
        self.assertEqual(p["name"], name)
        self.assertEqual(p["dist-tags"], {"latest": "1.0.0"})
        v = p["versions"]["1.0.0"]
        self.assertEqual(v["dependencies"], {"left": "^1.0.0"})
        self.assertEqual(v["devDependencies"], {"tap": "^16"})
        self.assertEqual(v["_id"], "%s@1.0.0" % name)
        self.assertEqual(v["_npmUser"]["name"], self.alice.username)
        self.assertNotIn("readme", v)
        self.assertEqual(p["readme"], "# hello\n\nA readme.")
        self.assertEqual(p["keywords"], ["pad", "string"])
        self.assertEqual([m["name"] for m in p["maintainers"]], [self.alice.username])
        # a no-reply address, never the real one (emails are private by default)
        host = self.depot.url.split("://", 1)[1].split(":")[0]
        self.assertEqual(p["maintainers"][0]["email"], "%s@users.noreply.%s" % (self.alice.username, host))
        self.assertEqual(v["_npmUser"]["email"], p["maintainers"][0]["email"])

    def test_second_version_is_merged(self):
        name = self.uniq("pkg")
        self.assertStatus(self.npm_publish(self.alice.bearer, name, "1.0.0"), 201)
        self.assertStatus(self.npm_publish(self.alice.bearer, name, "1.1.0"), 201)
        self.assertStatus(self.npm_publish(self.alice.bearer, name, "2.0.0-rc.1", tag="next"), 201)
        p = self.packument(name).json()
        self.assertEqual(sorted(p["versions"]), ["1.0.0", "1.1.0", "2.0.0-rc.1"])
        self.assertEqual(p["dist-tags"], {"latest": "1.1.0", "next": "2.0.0-rc.1"})
        for v in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
            self.assertIn(v, p["time"])

    def test_scoped(self):
        scope = self.uniq("s")
        name = "@%s/lib" % scope
        self.assertStatus(self.npm_publish(self.alice.bearer, name, "1.0.0"), 201)
        # both URL forms read it
        a = self.npm("GET", "/@%s%%2flib" % scope).json()
        b = self.npm("GET", "/@%s%%2Flib" % scope).json()
        c = self.npm("GET", "/@%s/lib" % scope).json()
        self.assertEqual(a, b)
        self.assertEqual(a, c)
        tb = a["versions"]["1.0.0"]["dist"]["tarball"]
        self.assertTrue(tb.endswith("/npm/@%s/lib/-/lib-1.0.0.tgz" % scope), tb)

    def test_dist_is_depots_not_the_clients(self):
        name = self.uniq("pkg")
        self.assertStatus(self.npm_publish(self.alice.bearer, name, "1.0.0",
                                           registry="http://evil.example/"), 201)
        v = self.packument(name).json()["versions"]["1.0.0"]
        self.assertTrue(v["dist"]["tarball"].startswith(self.depot.url + "/npm/"), v["dist"])
        tb = npm_tarball(name, "1.0.0")
        self.assertEqual(v["dist"]["integrity"], integrity(tb))
        self.assertEqual(v["dist"]["shasum"], shasum(tb))
        self.assertEqual(v["dist"]["fileCount"], 3)

    def test_escaped_slashes_in_base64(self):
        name = self.uniq("pkg")
        doc = publish_doc(name, "1.0.0")
        body = json_dumps_escaping_slashes(doc)
        self.assertIn("\\/", body)
        r = self.npm("PUT", "/" + name, auth=self.alice.bearer, body=body,
                     headers={"Content-Type": "application/json"})
        self.assertStatus(r, 201)

    def test_integrity_and_shasum_checked(self):
        name = self.uniq("pkg")
        other = npm_tarball(name, "1.0.0", files={"x.js": "x"})
        for dist, words in [
            ({"integrity": integrity(other)}, "integrity does not match"),
            ({"shasum": shasum(other)}, "shasum does not match"),
            ({"integrity": "sha1-" + base64.b64encode(b"x" * 20).decode()}, "integrity does not match"),
        ]:
            r = self.npm_publish(self.alice.bearer, name, "1.0.0", dist=dist)
            self.assertNpmError(r, 400, words)
        # an integrity with an algorithm depot does not know is not held against the bytes
        r = self.npm_publish(self.alice.bearer, name, "1.0.0",
                             dist={"integrity": "sha384-abc"})
        self.assertStatus(r, 201)
        self.assertEqual(self.packument(name).json()["versions"]["1.0.0"]["dist"]["integrity"],
                         integrity(npm_tarball(name, "1.0.0")))

    def test_document_checks(self):
        name = self.uniq("pkg")
        good = publish_doc(name, "1.0.0")
        att = "%s-1.0.0.tgz" % name

        def bad(mutate, status, words):
            doc = copy.deepcopy(good)
            mutate(doc)
            r = self.npm("PUT", "/" + name, auth=self.alice.bearer, json_body=doc)
            self.assertNpmError(r, status, words)

        bad(lambda d: d["_attachments"][att].update(length=1), 400, "length")
        bad(lambda d: d["_attachments"][att].update(data="!!!"), 400, "not base64")
        bad(lambda d: d["_attachments"][att].update(data=""), 400, "empty")
        bad(lambda d: d.update(name="other"), 400, "the url names")
        bad(lambda d: d["versions"]["1.0.0"].update(name="other"), 400, "name and version")
        bad(lambda d: d["versions"]["1.0.0"].update(version="1.0.1"), 400, "name and version")
        bad(lambda d: d["versions"].update({"1.0.1": d["versions"]["1.0.0"]}), 400, "exactly one")
        bad(lambda d: d.update(versions={}), 400, "exactly one")
        bad(lambda d: d.update({"dist-tags": {"latest": "1.0.0", "next": "1.0.0"}}), 400, "one tag")
        bad(lambda d: d.update({"dist-tags": {"latest": "2.0.0"}}), 400, "must name the version")
        bad(lambda d: d.update({"dist-tags": {"1.x": "1.0.0"}}), 422, "not a tag name")
        bad(lambda d: d["_attachments"].update({"other-1.0.0.tgz": d["_attachments"][att]}), 400,
            "one .tgz")
        # the tarball's own package.json must agree with the document
        tb = npm_tarball("someone-else", "1.0.0")
        bad(lambda d: d.update(publish_doc(name, "1.0.0", tarball=tb)), 422, "package.json says")
        tb = npm_tarball(name, "1.0.0", top="")
        bad(lambda d: d.update(publish_doc(name, "1.0.0", tarball=tb)), 422, "no package/package.json")
        tb = b"not a tarball at all"
        bad(lambda d: d.update(publish_doc(name, "1.0.0", tarball=tb)), 400, "tarball")
        # and nothing was stored
        self.assertNpmError(self.packument(name), 404)

    def test_malformed_bodies(self):
        name = self.uniq("pkg")
        for body in (b"", b"{", b"[1]", b"{\"a\":1}trailing", b"{\"a\":\"\x01\"}"):
            r = self.npm("PUT", "/" + name, auth=self.alice.bearer, body=body,
                         headers={"Content-Type": "application/json"})
            self.assertNpmError(r, 400)

    def test_bad_names(self):
        for name in ("Upper", ".dot", "_under", "a%20b", "node_modules", "@Scope/x"):
            r = self.npm_publish(self.alice.bearer, name, "1.0.0")
            self.assertIn(r.status, (400, 404), r.describe())
            self.assertNpmError(r, r.status)

    def test_versions_are_immutable(self):
        name = self.uniq("pkg")
        self.assertStatus(self.npm_publish(self.alice.bearer, name, "1.0.0"), 201)
        r = self.npm_publish(self.alice.bearer, name, "1.0.0",
                             tarball=npm_tarball(name, "1.0.0", files={"changed.js": "1"}))
        self.assertNpmError(r, 409, "cannot publish over the previously published version 1.0.0")

    def test_who_may_publish(self):
        name = self.uniq("pkg")
        # anonymous: 401 in npm's shape, with a Bearer challenge first
        r = self.npm_publish(None, name, "1.0.0")
        self.assertNpmError(r, 401)
        self.assertIn("Bearer", r.headers.get_all("WWW-Authenticate")[0])
        # a bad token
        self.assertNpmError(self.npm_publish("Bearer dpt_nope_nope_nope", name, "1.0.0"), 401)
        # a read-only token
        tok, _ = self.make_token(self.alice.bearer, ("read",))
        self.assertNpmError(self.npm_publish("Bearer " + tok, name, "1.0.0"), 403, "publish:npm")
        # a token for another package
        tok, _ = self.make_token(self.alice.bearer, ("publish:npm/other",))
        self.assertNpmError(self.npm_publish("Bearer " + tok, name, "1.0.0"), 403)
        # the npm login token may
        self.assertStatus(self.npm_publish(self.npm_token(self.alice), name, "1.0.0"), 201)
        # first publisher owns it: bob may not add a version
        r = self.npm_publish(self.bob.bearer, name, "1.0.1")
        self.assertNpmError(r, 403, "not an owner")

    def test_owner_from_publish_scope_token(self):
        name = self.uniq("pkg")
        tok, _ = self.make_token(self.alice.bearer, ("publish:npm/%s" % name,))
        self.assertStatus(self.npm_publish("Bearer " + tok, name, "1.0.0"), 201)
        tok, _ = self.make_token(self.alice.bearer, ("publish:npm",))
        self.assertStatus(self.npm_publish("Bearer " + tok, name, "1.0.1"), 201)

    def test_sigstore_attachment_is_ignored(self):
        name = self.uniq("pkg")
        doc = publish_doc(name, "1.0.0")
        doc["_attachments"]["%s-1.0.0.sigstore" % name] = {
            "content_type": "application/vnd.dev.sigstore.bundle+json;version=0.2",
            "data": "{\"mediaType\":\"x\"}"}
        r = self.npm("PUT", "/" + name, auth=self.alice.bearer, json_body=doc)
        self.assertStatus(r, 201)


def json_dumps_escaping_slashes(doc):
    import json
    return json.dumps(doc).replace("/", "\\/")
