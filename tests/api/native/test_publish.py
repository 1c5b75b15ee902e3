"""Native publish: where the manifest comes from (metadata part, depot.json, both), the 201
version document, immutability of versions, look-alike names, every manifest rule, tarball
problems, multipart problems and the upload size limit."""

import json
import os
import time
from urllib.parse import quote

from apitest import RFC3339_UTC
from native.nativetest import (PACKAGES, NativeTestCase, gzip_bomb, manifest, sha256_hex,
                               targz)


class Publish(NativeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="pub")

    def assertVersionDoc(self, doc, name, version, tarball, publisher):
        for k in ("name", "version", "description", "license", "dependencies",
                  "dev_dependencies", "checksum", "sha256", "size", "signature", "publisher",
                  "published_at", "yanked", "downloads", "download_url"):
            self.assertIn(k, doc, "the version document lacks %r: %r" % (k, doc))
        self.assertEqual(doc["name"], name)
        self.assertEqual(doc["version"], version)
        self.assertEqual(doc["sha256"], sha256_hex(tarball))
        self.assertEqual(doc["checksum"], "sha256:" + sha256_hex(tarball))
        self.assertEqual(doc["size"], len(tarball))
        self.assertIsNone(doc["signature"])
        self.assertEqual(doc["publisher"], publisher)
        self.assertRegex(doc["published_at"], RFC3339_UTC)
        self.assertIs(doc["yanked"], False)
        self.assertEqual(doc["downloads"], 0)
        self.assertIsInstance(doc["dependencies"], dict)
        self.assertIsInstance(doc["dev_dependencies"], dict)
        self.assertEqual(self.path_of(doc["download_url"]),
                         "%s/%s/versions/%s/download" % (PACKAGES, name, version))

    def test_metadata_part_only(self):
        name = self.pkgname()
        r, tb = self.publish(self.owner.bearer, name, "1.2.0", how="metadata",
                             dependencies={"str-utils": "^2.0"},
                             dev_dependencies={"test-kit": "~1.4"})
        doc = self.assertJSON(r, 201)
        self.assertVersionDoc(doc, name, "1.2.0", tb, self.owner.username)
        self.assertEqual(doc["dependencies"], {"str-utils": "^2.0"})
        self.assertEqual(doc["dev_dependencies"], {"test-kit": "~1.4"})
        self.assertEqual(doc["description"], "the %s package" % name)
        self.assertEqual(doc["license"], "MIT")
        self.assertIs(doc["created_package"], True)
        loc = r.headers.get("Location")
        self.assertTrue(loc, "201 without Location: " + r.describe())
        self.assertEqual(self.path_of(loc), "%s/%s/versions/1.2.0" % (PACKAGES, name))
        again = self.assertJSON(self.depot.get(self.path_of(loc)))
        for k in ("name", "version", "sha256", "size", "publisher", "published_at",
                  "dependencies", "dev_dependencies"):
            self.assertEqual(again[k], doc[k], k)
        dl = self.depot.get(self.path_of(doc["download_url"]))
        self.assertStatus(dl, 200)
        self.assertEqual(dl.body, tb)

    def test_depot_json_only(self):
        name = self.pkgname()
        r, tb = self.publish(self.owner.bearer, name, "0.1.0", how="file",
                             description="from depot.json", keywords=["alpha"])
        doc = self.assertJSON(r, 201)
        self.assertVersionDoc(doc, name, "0.1.0", tb, self.owner.username)
        self.assertIs(doc["created_package"], True)
        pkg = self.package(name)
        self.assertEqual(pkg["description"], "from depot.json")
        self.assertEqual(pkg["keywords"], ["alpha"])
        self.assertEqual(pkg["latest"], "0.1.0")

    def test_metadata_and_depot_json_agreeing(self):
        name = self.pkgname()
        r, tb = self.publish(self.owner.bearer, name, "3.0.0", how="both")
        doc = self.assertJSON(r, 201)
        self.assertVersionDoc(doc, name, "3.0.0", tb, self.owner.username)

    def test_metadata_and_depot_json_disagreeing_is_422(self):
        for what, file_m in (("version", {"version": "3.0.1"}),
                             ("name", {"name": self.pkgname()})):
            with self.subTest(differs=what):
                name = self.pkgname()
                meta = manifest(name, "3.0.0")
                in_file = dict(meta, **file_m)
                tb = self.tarball_for(name, "3.0.0", depot_json=in_file)
                r = self.depot.publish(tb, metadata=meta, auth=self.owner.bearer)
                self.assertError(r, 422, field=what)
                self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)

    def test_no_manifest_anywhere_is_400(self):
        name = self.pkgname()
        tb = self.tarball_for(name, "1.0.0")
        self.assertError(self.depot.publish(tb, auth=self.owner.bearer), 400,
                         field="depot.json")
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)

    def test_second_version_is_not_a_new_package(self):
        name = self.pkgname()
        self.published(self.owner.bearer, name, "1.0.0")
        doc, _ = self.published(self.owner.bearer, name, "1.1.0")
        self.assertIs(doc["created_package"], False)
        self.assertEqual(self.versions(name), ["1.1.0", "1.0.0"])

    def test_same_version_again_is_409_and_nothing_changes(self):
        name = self.pkgname()
        first, tb = self.published(self.owner.bearer, name, "1.0.0", description="first")
        before = self.state(name)
        for how in ("metadata", "file"):
            with self.subTest(how=how):
                r, tb2 = self.publish(self.owner.bearer, name, "1.0.0", how=how,
                                      description="second")
                self.assertNotEqual(tb, tb2)
                self.assertError(r, 409)
        self.assertEqual(self.state(name), before)
        v = self.assertJSON(self.depot.get("%s/%s/versions/1.0.0" % (PACKAGES, name)))
        self.assertEqual(v["sha256"], first["sha256"])
        self.assertEqual(v["description"], "first")
        self.assertEqual(self.package(name)["description"], "first")
        dl = self.depot.get("%s/%s/versions/1.0.0/download" % (PACKAGES, name))
        self.assertEqual(dl.body, tb)

    def test_look_alike_names_are_one_package(self):
        base = self.pkgname("lp")
        hyphen = base + "-pad"
        self.published(self.owner.bearer, hyphen, "1.0.0")
        other = self.new_user(prefix="la")
        for alike in (base + "_pad", base.capitalize() + "_Pad", base.upper() + "-PAD"):
            for who in (self.owner, other):
                with self.subTest(name=alike, who=who.username):
                    r, _ = self.publish(who.bearer, alike, "2.0.0")
                    self.assertError(r, (403, 409, 422))
        pkg = self.package(hyphen)
        self.assertEqual(pkg["name"], hyphen)
        self.assertEqual([v["version"] for v in pkg["versions"]], ["1.0.0"])
        r = self.depot.get("%s/%s" % (PACKAGES, base + "_pad"))
        if r.status == 200:  # a look-alike may lead to the one package, never a second one
            self.assertEqual(r.json()["name"], hyphen)
        else:
            self.assertError(r, 404)
        s = self.assertJSON(self.depot.get("/api/v1/search?q=%s" % base))
        self.assertEqual([p["name"] for p in s["packages"]], [hyphen])
        prof = self.assertJSON(self.depot.get("/api/v1/users/" + other.username))
        self.assertEqual(prof["packages"], [])

    def test_readme_text_appears_in_the_package_document(self):
        name = self.pkgname()
        text = "# %s\n\nPads strings on the left.\n" % name
        self.published(self.owner.bearer, name, "1.0.0", readme=text)
        self.assertEqual(self.package(name)["readme"], text)

    def test_readme_named_by_metadata(self):
        name = self.pkgname()
        text = "guide for %s\n" % name
        r, _ = self.publish(self.owner.bearer, name, "1.0.0", how="metadata",
                            files={"docs/GUIDE.md": text}, meta=manifest(
                                name, "1.0.0", readme="docs/GUIDE.md"))
        self.assertJSON(r, 201)
        self.assertEqual(self.package(name)["readme"], text)

    def test_readme_named_by_depot_json(self):
        name = self.pkgname()
        text = "guide for %s\n" % name
        r, _ = self.publish(self.owner.bearer, name, "1.0.0", how="file",
                            files={"docs/GUIDE.md": text},
                            meta=manifest(name, "1.0.0", readme="docs/GUIDE.md"))
        self.assertJSON(r, 201)
        self.assertEqual(self.package(name)["readme"], text)

    def test_readme_path_with_dot_segment(self):
        # the manifest's readme path is normalised ("./docs/x" is "docs/x")
        name = self.pkgname()
        text = "dotted guide for %s\n" % name
        r, _ = self.publish(self.owner.bearer, name, "1.0.0", how="metadata",
                            files={"docs/GUIDE.md": text},
                            meta=manifest(name, "1.0.0", readme="./docs/GUIDE.md"))
        self.assertJSON(r, 201)
        self.assertEqual(self.package(name)["readme"], text)

    def test_readme_over_the_display_cap_does_not_refuse_the_package(self):
        # publish.c: "The readme the manifest names (or a README at the root) is stored for
        # display, capped" -- a long README is cut for display, the package is not refused
        name = self.pkgname()
        text = ("# %s\n" % name) + "long readme line\n" * 40000  # ~640 KiB
        r, _ = self.publish(self.owner.bearer, name, "1.0.0", readme=text)
        self.assertJSON(r, 201)
        shown = self.package(name)["readme"]
        self.assertTrue(shown and text.startswith(shown), "the readme should be a prefix")

    def test_metadata_as_a_file_part(self):
        from depot import Part
        name = self.pkgname()
        tb = self.tarball_for(name, "1.0.0")
        r = self.depot.publish(tb, auth=self.owner.bearer, extra_parts=[
            Part("metadata", json.dumps(manifest(name)), "depot.json", "application/json")])
        self.assertJSON(r, 201)
        self.assertEqual(self.package(name)["description"], "the %s package" % name)

    def test_url_forms_of_the_new_version(self):
        name = self.pkgname()
        doc, tb = self.published(self.owner.bearer, name, "1.0.0-beta.2")
        for path in ("%s/%s/versions/1.0.0-beta.2" % (PACKAGES, name),
                     "%s/%s/1.0.0-beta.2" % (PACKAGES, name),
                     "/api/packages/%s/versions/1.0.0-beta.2" % name):
            with self.subTest(path=path):
                v = self.assertJSON(self.depot.get(path))
                self.assertEqual(v["sha256"], doc["sha256"])


# Each manifest rule: (test name, the fields to change, the field the message must name).
_LONG = "x" * 1001
MANIFEST_CASES = [
    ("name_starts_with_digit", {"name": "9lives"}, "name"),
    ("name_upper_case", {"name": "LeftPad"}, "name"),
    ("name_empty", {"name": ""}, "name"),
    ("name_too_long", {"name": "a" * 65}, "name"),
    ("name_with_slash", {"name": "left/pad"}, "name"),
    ("name_with_dot", {"name": "left.pad"}, "name"),
    ("name_with_space", {"name": "left pad"}, "name"),
    ("name_with_at", {"name": "@scope-pad"}, "name"),
    ("name_missing", {"name": None}, "name"),
    ("version_two_parts", {"version": "1.0"}, "version"),
    ("version_leading_zero", {"version": "01.0.0"}, "version"),
    ("version_v_prefix", {"version": "v1.0.0"}, "version"),
    ("version_missing", {"version": None}, "version"),
    ("description_too_long", {"description": _LONG}, "description"),
    ("license_unknown", {"license": "Foo"}, "license"),
    ("license_dangling_or", {"license": "MIT OR"}, "license"),
    ("homepage_not_a_url", {"homepage": "not a url"}, "homepage"),
    ("homepage_ftp", {"homepage": "ftp://example.com/x"}, "homepage"),
    ("repository_javascript", {"repository": "javascript:alert(1)"}, "repository"),
    ("keywords_eleven", {"keywords": ["k%d" % i for i in range(11)]}, "keywords"),
    ("keyword_capitals", {"keywords": ["fine", "Capital"]}, "keywords"),
    ("categories_six", {"categories": ["algorithms", "caching", "database", "encoding",
                                       "parsing", "testing"]}, "categories"),
    ("category_unknown", {"categories": ["no-such-category"]}, "categories"),
    ("dependency_bad_name", {"dependencies": {"Bad Name": "^1.0"}}, "dependencies"),
    ("dependency_bad_requirement", {"dependencies": {"ok-dep": "^^1"}}, "dependencies"),
    ("dev_dependency_bad_requirement", {"dev_dependencies": {"ok-dep": ">=>1"}},
     "dev_dependencies"),
    ("readme_not_in_tarball", {"readme": "NOPE.md"}, "readme"),
    ("readme_dot_dot", {"readme": "../README.md"}, "readme"),
    ("readme_absolute", {"readme": "/README.md"}, "readme"),
]


class Manifest(NativeTestCase):
    """Every manifest rule answered 400/422 with the field named, and nothing stored."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="man")

    def check_refused(self, change, field, how):
        name = self.pkgname()
        m = manifest(name, "1.0.0")
        for k, v in change.items():
            if v is None:
                m.pop(k, None)
            else:
                m[k] = v
        r, _ = self.publish(self.owner.bearer, name, "1.0.0", how=how, meta=m, readme="# hi\n")
        self.assertError(r, (400, 422), field=field)
        if m.get("name"):
            self.assertError(self.depot.get("%s/%s" % (PACKAGES, quote(m["name"], safe=""))),
                             (400, 404))
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)


def _manifest_test(change, field, how):
    def t(self):
        self.check_refused(change, field, how)
    return t


for _name, _change, _field in MANIFEST_CASES:
    setattr(Manifest, "test_" + _name, _manifest_test(_change, _field, "metadata"))
# The same rules apply to a depot.json found in the tarball (a few of them, as a sample).
for _name, _change, _field in MANIFEST_CASES:
    if _name in ("name_upper_case", "version_two_parts", "license_unknown", "keywords_eleven",
                 "dependency_bad_requirement", "readme_dot_dot"):
        setattr(Manifest, "test_depot_json_" + _name, _manifest_test(_change, _field, "file"))


class Tarball(NativeTestCase):
    """Tarball and multipart problems: each refused with 4xx, nothing stored."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="tar")

    def refused(self, tarball, statuses=(400, 422), **kw):
        name = self.pkgname()
        r = self.depot.publish(tarball, metadata=manifest(name), auth=self.owner.bearer, **kw)
        err = self.assertError(r, statuses)
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)
        return err

    def test_not_gzip(self):
        self.refused(os.urandom(2000))

    def test_plain_tar_is_not_gzip(self):
        self.refused(targz({"src/a.txt": "x"}, gz=False))

    def test_truncated_gzip(self):
        tb = targz({"src/a.txt": os.urandom(5000).hex()})
        self.refused(tb[:len(tb) // 2])

    def test_empty_file(self):
        self.refused(b"")

    def test_path_traversal_entry(self):
        err = self.refused(targz({"src/a.txt": "x", "../x": "escape"}))
        self.assertIn("..", err["message"])

    def test_nested_path_traversal_entry(self):
        self.refused(targz({"src/../../x": "escape"}))

    def test_absolute_path_entry(self):
        self.refused(targz({"src/a.txt": "x", "/pkg/evil.txt": "abs"}))

    def test_gzip_bomb(self):
        bomb = gzip_bomb(60 << 20)
        self.assertLess(len(bomb), 200000)
        t0 = time.monotonic()
        self.refused(bomb, (400, 413, 422))
        self.assertLess(time.monotonic() - t0, 10, "the bomb took too long to refuse")

    def test_missing_tarball_part(self):
        name = self.pkgname()
        r = self.depot.publish(None, metadata=manifest(name), auth=self.owner.bearer)
        self.assertError(r, 400, field="tarball")
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)

    def test_tarball_as_a_field_not_a_file(self):
        from depot import multipart_body
        name = self.pkgname()
        body, ct = multipart_body([("tarball", self.tarball_for(name, "1.0.0")),
                                   ("metadata", json.dumps(manifest(name)))])
        r = self.depot.request("POST", PACKAGES, body=body, headers={"Content-Type": ct},
                               auth=self.owner.bearer)
        self.assertError(r, 400, field="tarball")

    def test_metadata_not_json(self):
        name = self.pkgname()
        r = self.depot.publish(self.tarball_for(name, "1.0.0"), metadata="{not json",
                               auth=self.owner.bearer)
        self.assertError(r, 400, field="metadata")

    def test_non_multipart_body_is_415(self):
        name = self.pkgname()
        tb = self.tarball_for(name, "1.0.0")
        for ct, body in (("application/json", json.dumps(manifest(name))),
                         ("application/gzip", tb),
                         ("application/octet-stream", tb)):
            with self.subTest(content_type=ct):
                r = self.depot.request("POST", PACKAGES, body=body,
                                       headers={"Content-Type": ct}, auth=self.owner.bearer)
                self.assertError(r, 415)
        r = self.depot.request("POST", PACKAGES, body=tb, auth=self.owner.bearer)
        self.assertError(r, 415)
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)

    def test_multipart_without_boundary_is_400(self):
        r = self.depot.request("POST", PACKAGES, body=b"--x\r\n\r\n",
                               headers={"Content-Type": "multipart/form-data"},
                               auth=self.owner.bearer)
        self.assertError(r, 400)


class UploadLimit(NativeTestCase):
    depot_args = ("--max-upload", "65536")

    def test_oversized_upload_is_413(self):
        owner = self.new_user()
        name = self.pkgname()
        big = targz({"blob.bin": os.urandom(100000)})
        self.assertGreater(len(big), 65536)
        r = self.depot.publish(big, metadata=manifest(name), auth=owner.bearer)
        self.assertError(r, 413)
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)
        # a small one still goes through
        self.published(owner.bearer, name, "1.0.0")

    def test_oversized_chunked_upload_is_413(self):
        from depot import RawConn, multipart_body
        owner = self.new_user()
        name = self.pkgname()
        big = targz({"blob.bin": os.urandom(100000)})
        body, ct = multipart_body([("tarball", big, "p.tar.gz"),
                                   ("metadata", json.dumps(manifest(name)))])
        with RawConn(self.depot.host, self.depot.port) as c:
            c.send("POST %s HTTP/1.1\r\nHost: depot\r\nAuthorization: %s\r\n"
                   "Content-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n"
                   % (PACKAGES, owner.bearer, ct))
            for i in range(0, len(body), 16384):
                chunk = body[i:i + 16384]
                if not c.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n"):
                    break
            c.send(b"0\r\n\r\n")
            r = c.read_response()
        self.assertIsNotNone(r, "no response to an oversized chunked upload")
        r.method, r.path = "POST", PACKAGES
        self.depot.responses.append(r)
        self.assertError(r, 413)
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)
