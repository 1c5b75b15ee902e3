"""pub publishing through the Dart-free client (dartpub.py): the three steps as `dart pub publish`
sends them, and the message the user reads for every outcome — success, a duplicate version, a
bad pubspec, a name taken under another case, no token, a token without permission, another
owner's package — plus the archive rules (links, escaping and duplicate paths, case collisions,
no pubspec at the root, size caps), Dart's version rules (canonical form, build metadata as a
distinct version), and what a private registry must allow (publish_to, hosted: dependencies)."""

import hashlib
import json

from pub.dartpub import DartPub, package, pub_archive, pubspec_yaml
from pub.pubtest import PubTestCase


class Publish(PubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.user, self.token = self.pub_user()

    # ---- the happy path -----------------------------------------------------------------------

    def test_publish_then_get(self):
        name = self.uniq("first_")
        c = self.client(self.token)
        extra = ("homepage: https://example.com/%s\n"
                 "publish_to: %s\n"
                 "topics: [network, http-client]\n"
                 "dependencies:\n"
                 "  http: ^1.2.0\n"
                 "  collection:\n"
                 "  private_dep:\n"
                 "    hosted: %s\n"
                 "    version: '>=2.0.0 <3.0.0'\n"
                 "dev_dependencies:\n"
                 "  test: ^1.24.0\n" % (name, self.hosted, self.hosted))
        res = c.publish(package(name, "1.2.0", extra), name)
        self.assertEqual(res.exit, 0, res)
        self.assertIn("Message from server: Successfully uploaded %s 1.2.0" % name, res.output)

        doc = c.listing(name)
        self.assertEqual(doc["name"], name)
        self.assertEqual(len(doc["versions"]), 1)
        v = doc["versions"][0]
        self.assertEqual(v["version"], "1.2.0")
        self.assertIs(v["retracted"], False)
        self.assertTrue(v["archive_url"].startswith(self.depot.url + "/pub/"), v["archive_url"])
        self.assertTime(v["published"], "published")
        # The pubspec, typed as Dart reads the YAML, in the YAML's key order.
        self.assertEqual(v["pubspec"], {
            "name": name, "version": "1.2.0", "description": "The %s package, for tests." % name,
            "environment": {"sdk": ">=3.0.0 <4.0.0"},
            "homepage": "https://example.com/%s" % name, "publish_to": self.hosted,
            "topics": ["network", "http-client"],
            "dependencies": {"http": "^1.2.0", "collection": None,
                             "private_dep": {"hosted": self.hosted, "version": ">=2.0.0 <3.0.0"}},
            "dev_dependencies": {"test": "^1.24.0"}})
        self.assertEqual(list(v["pubspec"].keys())[:4], ["name", "version", "description",
                                                         "environment"])
        self.assertEqual(doc["latest"]["version"], "1.2.0")
        self.assertIs(doc["isDiscontinued"], False)
        archive = c.download(name, "1.2.0")
        self.assertEqual(hashlib.sha256(archive).hexdigest(), v["archive_sha256"])

    def test_new_package_precheck_is_404(self):
        c = self.client(self.token)
        r = self.pub("GET", "/api/packages/" + self.uniq("nope_"),
                     headers={"Accept": "application/vnd.pub.v2+json"})
        self.assertPubError(r, 404, "no package")

    def test_several_versions_order_and_latest(self):
        name = self.uniq("order_")
        c = self.client(self.token)
        for v in ("1.0.0", "2.0.0-dev.1", "1.0.0+1", "0.9.0", "1.0.0+10", "1.0.0+2", "1.0.0-rc.1"):
            res = c.publish(package(name, v), name)
            self.assertEqual(res.exit, 0, (v, res))
        doc = c.listing(name)
        self.assertEqual([x["version"] for x in doc["versions"]],
                         ["0.9.0", "1.0.0-rc.1", "1.0.0", "1.0.0+1", "1.0.0+2", "1.0.0+10",
                          "2.0.0-dev.1"])
        # the highest stable by Dart's order, build metadata included
        self.assertEqual(doc["latest"]["version"], "1.0.0+10")
        for x in doc["versions"]:
            self.assertEqual(x["version"], x["pubspec"]["version"])

    def test_latest_prerelease_only(self):
        name = self.uniq("pre_")
        self.publish_ok(self.token, name, "1.0.0-beta.1")
        self.publish_ok(self.token, name, "1.0.0-beta.2")
        self.assertEqual(self.client(self.token).listing(name)["latest"]["version"], "1.0.0-beta.2")

    # ---- rejections the user reads ------------------------------------------------------------

    def test_duplicate_version(self):
        name = self.uniq("dup_")
        self.publish_ok(self.token, name, "1.0.0")
        res = self.client(self.token).publish(package(name, "1.0.0", files={"x.txt": "other"}), name)
        self.assertEqual(res.exit, 1, res)
        self.assertIn("Message from server: %s 1.0.0 already exists" % name, res.output)

    def test_bad_pubspecs(self):
        name = self.uniq("bad_")
        cases = [
            ("name: %s\nversion: 1.0\n" % name, "version: 1.0 is read as a number"),
            ("name: %s\nversion: 01.0.0\n" % name, "not in canonical form; use '1.0.0'"),
            ("name: %s\nversion: 1.0.0+001\n" % name, "use '1.0.0+1'"),
            ("name: %s\nversion: v1\n" % name, "is not a version"),
            ("name: %s-x\nversion: 1.0.0\n" % name, "is not a valid package name"),
            ("name: class\nversion: 1.0.0\n", "reserved word"),
            ("version: 1.0.0\n", "the field 'name' is missing"),
            ("name: %s\nversion: 1.0.0\nx: &a 1\ny: *a\n" % name, "anchors"),
            ("name: %s\nversion: 1.0.0\nname: again\n" % name, "appears twice"),
            ("name: %s\nversion: 1.0.0\ndependencies:\n  foo: 1\n" % name,
             "dependencies.foo must be a version constraint"),
            ("name: %s\nversion: 1.0.0\ndependencies:\n  foo: '^^1'\n" % name,
             "is not a version constraint"),
            ("name: %s\nversion: [1\n" % name, "pubspec.yaml line 3, column 1"),
            ("- just\n- a list\n", "must be a YAML map"),
        ]
        c = self.client(self.token)
        for yaml, words in cases:
            with self.subTest(yaml=yaml):
                res = c.publish(pub_archive({"pubspec.yaml": yaml, "lib/a.dart": "x"}))
                self.assertEqual(res.exit, 1, res)
                self.assertTrue(res.output.startswith("Message from server: "), res)
                self.assertIn(words, res.output)

    def test_archive_rules(self):
        name = self.uniq("arch_")
        good = pubspec_yaml(name)
        import io
        import tarfile
        import gzip as gz

        def tar_with(extra_members):
            raw = io.BytesIO()
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
                ti = tarfile.TarInfo("pubspec.yaml")
                ti.size = len(good)
                t.addfile(ti, io.BytesIO(good.encode()))
                for m, data in extra_members:
                    t.addfile(m, io.BytesIO(data) if data is not None else None)
            return gz.compress(raw.getvalue(), mtime=0)

        sym = tarfile.TarInfo("lib/link.dart")
        sym.type = tarfile.SYMTYPE
        sym.linkname = "../../etc/passwd"
        hard = tarfile.TarInfo("lib/hard.dart")
        hard.type = tarfile.LNKTYPE
        hard.linkname = "pubspec.yaml"
        fifo = tarfile.TarInfo("lib/fifo")
        fifo.type = tarfile.FIFOTYPE
        cases = [
            (tar_with([(sym, None)]), "symbolic link"),
            (tar_with([(hard, None)]), "hard link"),
            (tar_with([(fifo, None)]), "not a regular file"),
            (pub_archive([("pubspec.yaml", good), ("../evil.dart", "x")]), "escapes"),
            (pub_archive([("pubspec.yaml", good), ("/abs.dart", "x")]), "absolute"),
            (pub_archive([("pubspec.yaml", good), ("lib/a.dart", "1"), ("lib/a.dart", "2")]),
             "appears twice"),
            (pub_archive([("pubspec.yaml", good), ("lib/A.dart", "1"), ("lib/a.dart", "2")]),
             "differ only in case"),
            (pub_archive({"pkg/pubspec.yaml": good}), "no pubspec.yaml at the archive's root"),
            (pub_archive({"pubspec.yaml": good + "# " + "x" * (128 << 10) + "\n"}),
             "larger than 128 KiB"),
            (b"not a gzip at all", "archive:"),
            (b"", "empty"),
        ]
        c = self.client(self.token)
        for data, words in cases:
            with self.subTest(words=words):
                res = c.publish(data)
                self.assertEqual(res.exit, 1, res)
                self.assertTrue(res.output.startswith("Message from server: "), res)
                self.assertIn(words, res.output)
        self.assertEqual(self.pub("GET", "/api/packages/" + name).status, 404)

    def test_long_names_and_pax(self):
        """GNU ././@LongLink names (what dart pub writes) and PAX headers (other tools)."""
        name = self.uniq("long_")
        deep = "lib/" + "/".join(["d%02d_%s" % (i, "x" * 20) for i in range(8)]) + "/f.dart"
        self.assertGreater(len(deep), 100)
        self.publish_ok(self.token, name, files={deep: "// deep\n"})
        c = self.client(self.token)
        from pub.dartpub import extract
        self.assertIn(deep, extract(c.download(name, "1.0.0")))

    def test_name_taken_in_another_case(self):
        name = self.uniq("case_")
        self.publish_ok(self.token, name)
        other = name.upper()
        res = self.client(self.token).publish(package(other, "2.0.0"), other)
        self.assertEqual(res.exit, 1, res)
        self.assertIn("is taken by the package '%s'" % name, res.output)
        # and the listing is case-sensitive, as the client compares names
        self.assertPubError(self.pub("GET", "/api/packages/" + other), 404, "case-sensitive")

    def test_no_token(self):
        res = self.client(None).publish(package(self.uniq("anon_")))
        self.assertEqual(res.exit, 65, res)
        self.assertIn("package repository requested authentication!", res.output)
        self.assertIn("Authentication failed!", res.output)
        self.assertIn("Create a depot API token", res.message)

    def test_invalid_token(self):
        c = self.client("dpt_" + "A" * 43)
        res = c.publish(package(self.uniq("inv_")))
        self.assertEqual(res.exit, 65, res)
        self.assertIn("token is not valid", res.message)
        self.assertIn("Invalid token for", res.output)  # what the client does on a 401

    def test_read_only_token(self):
        _, tok = self.pub_user(scopes=("read",))
        res = self.client(tok).publish(package(self.uniq("ro_")))
        self.assertEqual(res.exit, 65, res)
        self.assertIn("Insufficient permissions", res.output)
        self.assertIn("may not publish pub packages", res.message)

    def test_not_an_owner(self):
        name = self.uniq("owned_")
        self.publish_ok(self.token, name)
        _, other = self.pub_user()
        res = self.client(other).publish(package(name, "1.1.0"), name)
        self.assertEqual(res.exit, 65, res)
        self.assertIn("Insufficient permissions", res.output)
        self.assertIn("not an owner of %s" % name, res.message)
        # a token limited to another package may not publish this one
        _, narrow = self.pub_user(scopes=("read", "publish:pub/some_other_pkg"))
        res = self.client(narrow).publish(package(self.uniq("narrow_")))
        self.assertEqual(res.exit, 65, res)
        self.assertIn("publish:pub/", res.message)

    def test_private_packages_may_point_here(self):
        """publish_to and hosted: dependencies with a url are what private packages need."""
        name = self.uniq("priv_")
        extra = ("publish_to: %s\ndependencies:\n  other:\n    hosted:\n      name: other\n"
                 "      url: %s\n    version: ^1.0.0\n" % (self.hosted, self.hosted))
        self.publish_ok(self.token, name, extra=extra)

    def test_unicode_pubspec(self):
        name = self.uniq("uni_")
        extra = "authors: [\"Zo\u00eb \u00c5str\u00f6m <z@example.com>\"]\nemoji: \"\U0001F600\"\n"
        self.publish_ok(self.token, name, extra=extra)
        r = self.pub("GET", "/api/packages/" + name)
        self.assertStatus(r, 200)
        r.body.decode("ascii")  # non-ASCII as \\u escapes: no charset can garble it
        v = r.json()["versions"][0]["pubspec"]
        self.assertEqual(v["authors"], ["Zo\u00eb \u00c5str\u00f6m <z@example.com>"])
        self.assertEqual(v["emoji"], "\U0001F600")
        self.assertIn("charset=utf-8", r.headers["Content-Type"])

    def test_yaml_typing_reaches_the_listing(self):
        name = self.uniq("typed_")
        extra = ("flags:\n  a: yes\n  b: on\n  c: true\n  d: 0x1F\n  e: 1.5\n  f: '1.0'\n"
                 "  g: 1.0\n  h: ~\n  i: 2001-12-14\n  j: 12:30\n  k: 1e3\n")
        self.publish_ok(self.token, name, extra=extra)
        v = self.client(self.token).listing(name)["versions"][0]["pubspec"]
        self.assertEqual(v["flags"], {"a": "yes", "b": "on", "c": True, "d": 31, "e": 1.5, "f": "1.0",
                                      "g": 1.0, "h": None, "i": "2001-12-14", "j": "12:30",
                                      "k": 1000.0})
        r = self.pub("GET", "/api/packages/" + name)
        self.assertIn(b'"g":1.0', r.body)
        self.assertIn(b'"k":1000.0', r.body)

    def test_capitalized_headers_client(self):
        """package:http 1.7 preserves header case: Content-Type, Authorization ..."""
        name = self.uniq("caps_")
        res = self.client(self.token, capitalized=True).publish(package(name), name)
        self.assertEqual(res.exit, 0, res)


class PublishLimits(PubTestCase):
    depot_args = ("--pub-max-entries", "20", "--pub-max-unpacked", "65536", "--pub-max-archive",
                  "50000")

    def test_limits(self):
        _, tok = self.pub_user()
        name = self.uniq("lim_")
        c = self.client(tok)
        many = {"lib/f%02d.dart" % i: "x" for i in range(30)}
        res = c.publish(package(name, files=many))
        self.assertEqual(res.exit, 1, res)
        self.assertIn("entries", res.output)
        res = c.publish(package(name, files={"lib/big.dart": "a" * 100000}))
        self.assertEqual(res.exit, 1, res)
        self.assertIn("expands beyond", res.output)
        import os
        res = c.publish(package(name, files={"lib/rnd.bin": os.urandom(60000).hex()}))
        self.assertEqual(res.exit, 1, res)
        self.assertIn("over this server's limit", res.output)
        self.publish_ok(tok, name)
