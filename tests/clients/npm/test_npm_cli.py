"""
test_npm_cli.py — the stock npm CLI (the one on this machine) against a real depot, as a
JavaScript team uses it after setting `registry=http://HOST/npm/` in .npmrc.

One story in numbered steps that build on each other (a failed step makes later ones fail;
read the first failure): npm login at the prompts, whoami, publish a plain package and a scoped
one that depends on it, install both into a fresh project (lock file on depot's URLs, npm
checking every integrity, npm ci from the lock with an empty cache, and EINTEGRITY for a lock
that lies), npm's clear refusals of a duplicate version and of a non-owner, dist-tags,
deprecate and undeprecate, search, view, owners, unpublish (and the number never coming back),
audit, ping, tokens, logout.

Each npm runs with its own HOME (so its own ~/.npmrc and ~/.npm cache) in a temp folder, with
no npm_config_* variable from the caller's environment. `npm login` is driven through a pty,
since npm reads the username and password from a terminal.
"""

import base64
import hashlib
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "harness"))

from depot import Depot  # noqa: E402

PASSWORD = "correct horse battery"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\u2800-\u28ff]")


def npm_available():
    return shutil.which("npm") is not None and shutil.which("node") is not None


class NpmHome:
    """A user's machine: HOME with .npmrc and the npm cache, and projects under it."""

    def __init__(self, root, name, registry):
        self.home = os.path.join(root, name)
        os.makedirs(self.home)
        self.registry = registry
        with open(self.npmrc, "w") as f:
            f.write("registry=%s\nupdate-notifier=false\nfund=false\ncolor=false\n" % registry)

    @property
    def npmrc(self):
        return os.path.join(self.home, ".npmrc")

    def env(self):
        e = {k: v for k, v in os.environ.items()
             if not k.lower().startswith("npm_config_") and not k.startswith("DEPOT_")}
        e.update(HOME=self.home, NO_COLOR="1", CI="true")
        return e

    def path(self, *parts):
        return os.path.join(self.home, *parts)

    def npm(self, *args, cwd=None, timeout=120):
        p = subprocess.run(["npm"] + list(args), cwd=cwd or self.home, env=self.env(),
                           capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        p.out = ANSI.sub("", p.stdout + p.stderr)
        return p

    def npm_pty(self, args, answers, timeout=60):
        """Runs npm on a terminal, answering prompts: answers is [(prompt text, reply)]."""
        m, s = pty.openpty()
        p = subprocess.Popen(["npm"] + list(args), stdin=s, stdout=s, stderr=s, env=self.env(),
                             cwd=self.home, close_fds=True, start_new_session=True)
        os.close(s)
        out, todo, deadline = b"", list(answers), time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([m], [], [], 0.2)
                if ready:
                    try:
                        chunk = os.read(m, 4096)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        break
                    out += chunk
                    if todo and todo[0][0].encode() in out.rsplit(b"\n", 1)[-1]:
                        os.write(m, (todo.pop(0)[1] + "\r").encode())
                elif p.poll() is not None:
                    break
        finally:
            if p.poll() is None:
                p.kill()
            p.wait()
            os.close(m)
        return p.returncode, ANSI.sub("", out.decode("utf-8", "replace"))

    def login(self, user, password):
        return self.npm_pty(["login"], [("Username:", user), ("Password:", password)])

    def token(self):
        for ln in open(self.npmrc).read().splitlines():
            if ":_authToken=" in ln:
                return ln.split("=", 1)[1]
        return None


def write_package(d, pkg, files=None):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "package.json"), "w") as f:
        json.dump(pkg, f, indent=2)
    for name, text in (files or {}).items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)


@unittest.skipUnless(npm_available(), "npm and node are not installed")
class NpmCli(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.failed = False
        cls.root = tempfile.mkdtemp(prefix="depot-npm-")
        cls.depot = Depot(name="npm-cli")
        cls.depot.start()
        cls.reg = cls.depot.url + "/npm/"
        for u in ("alice", "bob"):
            r = cls.depot.register(u, u + "@example.com", PASSWORD)
            if r.status != 201:
                raise RuntimeError("register %s: %s" % (u, r.describe()))
        cls.alice = NpmHome(cls.root, "alice", cls.reg)
        cls.bob = NpmHome(cls.root, "bob", cls.reg)
        cls.plain = cls.alice.path("capa")
        cls.scoped = cls.alice.path("capb")
        cls.proj = cls.alice.path("proj")

    @classmethod
    def tearDownClass(cls):
        cls.depot.close(keep=cls.failed)
        if cls.failed:
            sys.stderr.write("[npm-clients] kept %s\n" % cls.root)
        else:
            shutil.rmtree(cls.root, ignore_errors=True)

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > before:
            type(self).failed = True
        return out

    def ok(self, p, want=None):
        self.assertEqual(p.returncode, 0, "npm %s exited %d:\n%s" % (" ".join(p.args[1:]), p.returncode, p.out))
        if want:
            self.assertIn(want, p.out)
        return p

    def refused(self, p, *wants):
        self.assertNotEqual(p.returncode, 0, "npm %s should fail:\n%s" % (" ".join(p.args[1:]), p.out))
        for w in wants:
            self.assertIn(w, p.out)
        return p

    def tarball(self, url):
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.read()

    # ---- account --------------------------------------------------------------------------

    def test_01_login(self):
        rc, out = self.alice.login("alice", PASSWORD)
        self.assertEqual(rc, 0, out)
        self.assertIn("Logged in on %s." % self.reg, out)
        host = self.reg.split("://", 1)[1]
        self.assertIn("//%s:_authToken=dpt_" % host, open(self.alice.npmrc).read())
        self.ok(self.alice.npm("whoami"), "alice")
        rc, out = self.bob.login("bob", PASSWORD)
        self.assertEqual(rc, 0, out)

    def test_02_wrong_password(self):
        home = NpmHome(self.root, "mallory", self.reg)
        rc, out = home.login("alice", "not the password")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("Incorrect or missing password.", out)
        self.assertIsNone(home.token())

    # ---- publish and install ----------------------------------------------------------------

    def test_03_publish_plain(self):
        write_package(self.plain, {"name": "capa", "version": "1.0.0", "description": "plain a",
                                   "main": "index.js", "license": "MIT", "keywords": ["depot-e2e"]},
                      {"index.js": "module.exports = 'capa ' + require('./package.json').version;\n",
                       "README.md": "# capa\n\nThe plain one.\n"})
        self.ok(self.alice.npm("publish", cwd=self.plain), "+ capa@1.0.0")

    def test_04_publish_scoped_depending_on_plain(self):
        write_package(self.scoped, {"name": "@capscope/b", "version": "1.0.0", "description": "scoped b",
                                    "main": "index.js", "license": "MIT",
                                    "dependencies": {"capa": "^1.0.0"}, "bin": {"capb": "cli.js"}},
                      {"index.js": "module.exports = require('capa') + ' + b';\n",
                       "cli.js": "#!/usr/bin/env node\nconsole.log(require('./index.js'));\n"})
        self.ok(self.alice.npm("publish", "--access", "public", cwd=self.scoped), "+ @capscope/b@1.0.0")
        view = json.loads(self.ok(self.alice.npm("view", "@capscope/b", "--json")).stdout)
        self.assertEqual(view["dependencies"], {"capa": "^1.0.0"})
        self.assertEqual(view["dist"]["tarball"], self.reg + "@capscope/b/-/b-1.0.0.tgz")

    def test_05_install_into_a_fresh_project(self):
        write_package(self.proj, {"name": "proj", "version": "1.0.0", "private": True})
        p = self.ok(self.alice.npm("install", "@capscope/b", cwd=self.proj), "added 2 packages")
        self.assertIn("found 0 vulnerabilities", p.out)  # the audit endpoint answered
        run = subprocess.run(["node", "-e", "console.log(require('@capscope/b'))"], cwd=self.proj,
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(run.stdout.strip(), "capa 1.0.0 + b")
        self.assertTrue(os.path.exists(os.path.join(self.proj, "node_modules", ".bin", "capb")))
        lock = json.load(open(os.path.join(self.proj, "package-lock.json")))
        for key, url in (("node_modules/capa", self.reg + "capa/-/capa-1.0.0.tgz"),
                         ("node_modules/@capscope/b", self.reg + "@capscope/b/-/b-1.0.0.tgz")):
            entry = lock["packages"][key]
            self.assertEqual(entry["resolved"], url)
            data = self.tarball(url)
            self.assertEqual(entry["integrity"],
                             "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode())

    def test_06_ci_from_the_lock(self):
        shutil.rmtree(os.path.join(self.proj, "node_modules"))
        shutil.rmtree(self.alice.path(".npm"), ignore_errors=True)
        self.ok(self.alice.npm("ci", cwd=self.proj), "added 2 packages")
        # npm checks the bytes against the lock: a lying lock fails
        lockpath = os.path.join(self.proj, "package-lock.json")
        good = open(lockpath).read()
        lock = json.loads(good)
        lock["packages"]["node_modules/capa"]["integrity"] = \
            "sha512-" + base64.b64encode(hashlib.sha512(b"other bytes").digest()).decode()
        with open(lockpath, "w") as f:
            json.dump(lock, f)
        shutil.rmtree(os.path.join(self.proj, "node_modules"))
        shutil.rmtree(self.alice.path(".npm"), ignore_errors=True)
        self.refused(self.alice.npm("ci", "--fetch-retries=0", cwd=self.proj), "EINTEGRITY")
        with open(lockpath, "w") as f:
            f.write(good)
        self.ok(self.alice.npm("ci", cwd=self.proj))

    # ---- refusals -----------------------------------------------------------------------------

    def test_07_duplicate_version_refused(self):
        p = self.refused(self.alice.npm("publish", cwd=self.plain),
                         "You cannot publish over the previously published versions: 1.0.0.")
        # --force skips npm's own check; depot refuses
        p = self.refused(self.alice.npm("publish", "--force", cwd=self.plain),
                         "409 Conflict - PUT %scapa - cannot publish over the previously published version 1.0.0"
                         % self.reg)
        self.assertIn("E409", p.out)

    def test_08_non_owner_refused(self):
        bobs = self.bob.path("capa")
        write_package(bobs, {"name": "capa", "version": "1.0.1", "license": "MIT"}, {"index.js": "1;\n"})
        self.refused(self.bob.npm("publish", cwd=bobs),
                     "403 Forbidden - PUT %scapa - you are not an owner of capa" % self.reg)
        self.refused(self.bob.npm("dist-tag", "add", "capa@1.0.0", "bobs"), "403", "not an owner of capa")
        self.refused(self.bob.npm("deprecate", "capa@1.0.0", "mine now"), "403", "not an owner of capa")
        self.refused(self.bob.npm("unpublish", "capa@1.0.0", "--force"), "403", "not an owner of capa")
        self.assertEqual(json.loads(self.ok(self.alice.npm("view", "capa", "versions", "--json")).stdout),
                         ["1.0.0"])

    # ---- changes ------------------------------------------------------------------------------

    def test_09_dist_tags(self):
        write_package(self.plain, {"name": "capa", "version": "1.1.0", "description": "plain a",
                                   "main": "index.js", "license": "MIT", "keywords": ["depot-e2e"]})
        self.ok(self.alice.npm("publish", "--tag", "next", cwd=self.plain), "+ capa@1.1.0")
        ls = self.ok(self.alice.npm("dist-tag", "ls", "capa")).out
        self.assertIn("latest: 1.0.0", ls)
        self.assertIn("next: 1.1.0", ls)
        self.ok(self.alice.npm("dist-tag", "add", "capa@1.1.0", "beta"), "+beta: capa@1.1.0")
        self.ok(self.alice.npm("dist-tag", "rm", "capa", "beta"), "-beta: capa@1.1.0")
        self.assertNotIn("beta", self.ok(self.alice.npm("dist-tag", "ls", "capa")).out)
        # ^1.0.0 still resolves to latest; @next to 1.1.0
        self.ok(self.alice.npm("install", "capa@next", cwd=self.proj))
        self.assertEqual(json.load(open(os.path.join(self.proj, "node_modules", "capa", "package.json")))["version"],
                         "1.1.0")

    def test_10_deprecate(self):
        self.ok(self.alice.npm("deprecate", "capa@1.0.0", "please use 1.1.0"))
        self.assertEqual(self.ok(self.alice.npm("view", "capa@1.0.0", "deprecated")).stdout.strip(),
                         "please use 1.1.0")
        p = self.ok(self.alice.npm("install", "capa@1.0.0", cwd=self.proj))
        self.assertIn("npm warn deprecated capa@1.0.0: please use 1.1.0", p.out)
        self.ok(self.alice.npm("deprecate", "capa@1.0.0", ""))
        self.assertEqual(self.ok(self.alice.npm("view", "capa@1.0.0", "deprecated")).stdout.strip(), "")

    def test_11_search(self):
        p = self.ok(self.alice.npm("search", "depot-e2e"))
        self.assertIn("capa", p.out)
        self.assertIn("Version 1.0.0 published", p.out)
        self.assertIn("by alice", p.out)
        p = self.ok(self.alice.npm("search", "capscope"))
        self.assertIn("@capscope/b", p.out)
        self.assertIn('No matches found for "zzznothinghere"',
                      self.ok(self.alice.npm("search", "zzznothinghere")).out)

    def test_12_owners(self):
        # addresses are private: npm shows (and owner add accepts) the no-reply form
        host = self.reg.split("://", 1)[1].split("/")[0].split(":")[0]
        out = self.ok(self.alice.npm("owner", "ls", "capa")).out
        self.assertIn("alice <alice@users.noreply.%s>" % host, out)
        self.assertNotIn("alice@example.com", out)
        self.ok(self.alice.npm("owner", "add", "bob", "capa"), "+ bob (capa)")
        self.assertIn("bob <bob@users.noreply.%s>" % host, self.ok(self.alice.npm("owner", "ls", "capa")).out)
        self.ok(self.alice.npm("owner", "rm", "bob", "capa"), "- bob (capa)")
        self.assertNotIn("bob", self.ok(self.alice.npm("owner", "ls", "capa")).out)

    def test_13_unpublish(self):
        self.ok(self.alice.npm("unpublish", "capa@1.1.0"), "- capa@1.1.0")
        versions = json.loads(self.ok(self.alice.npm("view", "capa", "versions", "--json")).stdout)
        self.assertEqual(versions, ["1.0.0"])
        # the number never comes back
        write_package(self.plain, {"name": "capa", "version": "1.1.0", "license": "MIT"})
        self.refused(self.alice.npm("publish", "--tag", "next", cwd=self.plain), "409", "never used again")
        # a whole package
        tmp = self.alice.path("gone")
        write_package(tmp, {"name": "capgone", "version": "0.1.0", "license": "MIT"}, {"index.js": "1;\n"})
        self.ok(self.alice.npm("publish", cwd=tmp), "+ capgone@0.1.0")
        self.ok(self.alice.npm("unpublish", "capgone", "--force"), "- capgone")
        self.refused(self.alice.npm("view", "capgone"), "404")

    def test_14_audit_and_ping(self):
        self.ok(self.alice.npm("audit", cwd=self.proj), "found 0 vulnerabilities")
        self.ok(self.alice.npm("ping"), "PONG")

    def test_15_tokens(self):
        self.assertIn("Token dpt_", self.ok(self.alice.npm("token", "list")).out)
        p = self.ok(self.alice.npm("token", "create", "--password", PASSWORD), "Created token dpt_")
        created = re.search(r"Created token (\S+)", p.out).group(1)
        ids = re.findall(r"with id (\S+)", self.ok(self.alice.npm("token", "list")).out)
        self.assertEqual(len(ids), 2)
        # the created token works for npm, then is revoked by its id
        r = self.depot.get("/npm/-/whoami", auth="Bearer " + created)
        self.assertEqual(r.status, 200)
        keys = json.loads(self.ok(self.alice.npm("token", "list", "--json")).stdout)
        key = [t for t in keys if created.startswith(t["token"])][0]["key"]
        mine = [i for i in ids if key.startswith(i)][0]
        self.ok(self.alice.npm("token", "revoke", mine), "Removed 1 token")
        self.assertEqual(self.depot.get("/npm/-/whoami", auth="Bearer " + created).status, 401)

    def test_16_logout(self):
        token = self.alice.token()
        self.ok(self.alice.npm("logout"))
        self.assertIsNone(self.alice.token())
        self.refused(self.alice.npm("whoami"), "ENEEDAUTH")
        self.assertEqual(self.depot.get("/npm/-/whoami", auth="Bearer " + token).status, 401)
        # logging in again works, even with a dead token left in .npmrc
        host = self.reg.split("://", 1)[1]
        with open(self.alice.npmrc, "a") as f:
            f.write("//%s:_authToken=%s\n" % (host, token))
        rc, out = self.alice.login("alice", PASSWORD)
        self.assertEqual(rc, 0, out)
        self.ok(self.alice.npm("whoami"), "alice")


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(npm_available(), "npm and node are not installed")
class PrivateRegistry(unittest.TestCase):
    """A server started with --private: npm with a token in .npmrc (made through depot's API, as
    CI does) publishes and installs; npm without one is told to log in."""

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="depot-npm-private-")
        cls.depot = Depot(name="npm-private", extra_args=["--private"])
        cls.depot.start()
        cls.reg = cls.depot.url + "/npm/"
        r = cls.depot.register("carol", "carol@example.com", PASSWORD)
        if r.status != 201:
            raise RuntimeError("register: " + r.describe())
        r = cls.depot.create_token("Bearer " + cls.depot.jwt("carol", PASSWORD), "ci", ["read", "publish:npm"])
        if r.status != 201:
            raise RuntimeError("token: " + r.describe())
        cls.ci = NpmHome(cls.root, "ci", cls.reg)
        with open(cls.ci.npmrc, "a") as f:
            f.write("//%s:_authToken=%s\n" % (cls.reg.split("://", 1)[1], r.json()["token"]))
        cls.anon = NpmHome(cls.root, "anon", cls.reg)

    @classmethod
    def tearDownClass(cls):
        cls.depot.close()
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_token_in_npmrc(self):
        pkg = self.ci.path("secret")
        write_package(pkg, {"name": "@corp/secret", "version": "0.1.0", "license": "UNLICENSED"},
                      {"index.js": "module.exports = 42;\n"})
        p = self.ci.npm("publish", cwd=pkg)
        self.assertEqual(p.returncode, 0, p.out)
        proj = self.ci.path("app")
        write_package(proj, {"name": "app", "version": "1.0.0", "private": True})
        p = self.ci.npm("install", "@corp/secret", cwd=proj)
        self.assertEqual(p.returncode, 0, p.out)
        self.assertTrue(os.path.exists(os.path.join(proj, "node_modules", "@corp", "secret", "index.js")))
        # without a token: a 401, and npm says to log in
        proj = self.anon.path("app")
        write_package(proj, {"name": "app", "version": "1.0.0", "private": True})
        p = self.anon.npm("install", "@corp/secret", "--fetch-retries=0", cwd=proj)
        self.assertNotEqual(p.returncode, 0, p.out)
        self.assertIn("E401", p.out)
        self.assertIn("npm login", p.out)
