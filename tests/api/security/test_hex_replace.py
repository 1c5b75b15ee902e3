"""A Hex release's bytes change only on purpose and only while it is young (issue 15, item 5).

Publishing an existing version again needs `replace=true` in the query: an absent parameter
counts as false (stricter than hex.pm, which reads it as true; mix and rebar3 always send it).
A replacement is possible only within --hex-replace-window of the release's publication (one
hour by default, as hex.pm's public repository), and a revert has the same window; outside it
both are refused 422 in hex.pm's own words, and the bytes served stay the first ones. The audit
log records a replacement as `version.replace` with the old and the new SHA-256."""

import os
import sys
import time

from hex.hextest import HexTestCase, hex_tarball, sha256

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "browser"))
from webclient import WebClient  # noqa: E402

NO_REPLACE = "must include the --replace flag to update an existing release"


def second_tarball(name, version="1.0.0"):
    """Other bytes for the same name and version."""
    return hex_tarball(name, version, files={"src/%s.erl" % name: "-module(%s).\n%% other\n" % name,
                                             "rebar.config": "{}.\n"})


class HexReplace(HexTestCase):

    def served(self, name, version="1.0.0"):
        r = self.repo_get("/tarballs/%s-%s.tar" % (name, version))
        self.assertStatus(r, 200)
        return r.body

    def test_absent_replace_is_false(self):
        name = self.uniq("noreplace")
        t1 = self.published(name)
        t2 = second_tarball(name)
        # both publish paths, without any replace parameter
        for path in ("/publish", "/packages/%s/releases" % name, "/repos/depot/publish"):
            with self.subTest(path=path):
                e = self.assertHexError(self.publish(t2, path=path), 422, field="inserted_at")
                self.assertEqual(e["message"], "Validation error(s)")
                self.assertEqual(e["errors"]["inserted_at"], NO_REPLACE)
        # an explicit false, and values that are not "true"
        for q in ("false", "", "yes", "TRUE"):
            with self.subTest(replace=q):
                e = self.assertHexError(self.publish(t2, path="/publish?replace=" + q), 422,
                                        field="inserted_at")
                self.assertEqual(e["errors"]["inserted_at"], NO_REPLACE)
        self.assertEqual(self.served(name), t1, "the first bytes are still served")
        self.assertEqual(self.registry_package(name)["releases"][0]["outer"].hex(), sha256(t1))

    def test_replace_within_the_window_is_audited(self):
        name = self.uniq("replaced")
        t1 = self.published(name)
        t2 = second_tarball(name)
        r = self.publish(t2, name=name, replace=True)
        self.assertStatus(r, 200)
        self.assertEqual(self.served(name), t2)
        web = WebClient(self.depot)
        self.assertEqual(web.login(self.admin.username, self.admin.password).status, 303)
        page = web.get("/admin").text
        target = "hex/%s@1.0.0" % name
        self.assertIn("version.replace", page)
        row = [line for line in page.split("<tr>") if target in line and "version.replace" in line]
        self.assertTrue(row, "no version.replace entry for %s" % target)
        self.assertIn(sha256(t1), row[0], "the old checksum is recorded")
        self.assertIn(sha256(t2), row[0], "the new checksum is recorded")

    def test_other_owner_token_scopes_still_apply(self):
        name = self.uniq("replaceauthz")
        t1 = self.published(name)
        other = self.new_user(prefix="replacer")
        key = self.depot.create_token(other.bearer, "k", ["publish:hex"]).json()["token"]
        self.assertHexError(self.publish(second_tarball(name), key=key, name=name, replace=True), 403)
        self.assertEqual(self.served(name), t1)


class HexReplaceWindowClosed(HexTestCase):
    """A server whose window is two seconds: after it, neither replace nor revert."""

    depot_args = ("--hex-replace-window", "2")

    def test_replace_and_revert_after_the_window(self):
        name = self.uniq("late")
        t1 = self.published(name)
        time.sleep(3.2)
        e = self.assertHexError(self.publish(second_tarball(name), name=name, replace=True), 422,
                                field="inserted_at")
        self.assertEqual(e["errors"]["inserted_at"],
                         "can only modify a release up to 2 seconds after publication")
        e = self.assertHexError(self.api("DELETE", "/packages/%s/releases/1.0.0" % name, key=self.key), 422,
                                field="inserted_at")
        self.assertEqual(e["errors"]["inserted_at"],
                         "can only delete a release up to 2 seconds after publication")
        # without replace past the window: hex.pm names the window too
        e = self.assertHexError(self.publish(second_tarball(name), name=name), 422, field="inserted_at")
        self.assertIn("after publication", e["errors"]["inserted_at"])
        r = self.repo_get("/tarballs/%s-1.0.0.tar" % name)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, t1)
        self.assertIn("immutable", r.headers.get("Cache-Control", ""), "a final release is cached for good")

    def test_within_the_window_revert_works(self):
        name = self.uniq("young")
        self.published(name)
        self.assertStatus(self.api("DELETE", "/packages/%s/releases/1.0.0" % name, key=self.key), 204)


class HexReplaceDefaults(HexTestCase):

    def test_default_window_is_one_hour(self):
        import subprocess
        from apitest import depot_bin
        p = subprocess.run([depot_bin(), "serve", "--help"], capture_output=True, text=True, timeout=30)
        text = p.stdout + p.stderr
        self.assertIn("--hex-replace-window", text)
        line = [x for x in text.splitlines() if x.strip().startswith("--hex-replace-window")][0]
        self.assertIn("3600", line)

    def test_young_tarball_is_not_cached_for_good(self):
        name = self.uniq("fresh")
        self.published(name)
        r = self.repo_get("/tarballs/%s-1.0.0.tar" % name)
        self.assertStatus(r, 200)
        self.assertNotIn("immutable", r.headers.get("Cache-Control", ""))
