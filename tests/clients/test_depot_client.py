"""
test_depot_client.py — the depot client commands (`depot login`, `publish`, `install` ...) run as
a user runs them, against the real server started by tests/harness/depot.py.

    DEPOT_BIN=build/depot python3 tests/clients/run.py        (or python3 -m unittest here)

Three classes:
  EndToEnd        one story, in numbered steps that build on each other (a step that fails makes
                  the later ones fail too; read the first failure): register, login, whoami,
                  keygen, key register, publish with .depotignore, search, info, a dependent
                  package, install, reinstall from the lock, yank, exact pins, owners, logout.
  Offline         what needs no server: ignore rules through `publish --dry-run`, usage errors,
                  clear messages for a missing depot.json or an unreachable registry.
  HostileRegistry a fake registry (Python http.server) that sends what a real one never should:
                  tarballs with "..", absolute paths and links, wrong checksums, bad signatures,
                  names that are paths. The client must refuse each and leave the project as it
                  was.

Every command runs with its own HOME and XDG_CONFIG_HOME in a temp folder, and without any DEPOT_*
variable from the caller's environment.
"""

import base64
import hashlib
import http.server
import io
import json
import os
import shutil
import socketserver
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))

from depot import Depot, basic, depot_bin  # noqa: E402

PASSWORD = "correct horse battery"


class ClientEnv:
    """A temp home for the client: config folder, projects, and a runner for `depot ...`."""

    def __init__(self, registry=None):
        self.root = tempfile.mkdtemp(prefix="depot-client-")
        self.home = os.path.join(self.root, "home")
        self.xdg = os.path.join(self.root, "xdg")
        os.mkdir(self.home)
        self.registry = registry
        self.config = os.path.join(self.xdg, "depot")

    def env(self, extra=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
        e["HOME"] = self.home
        e["XDG_CONFIG_HOME"] = self.xdg
        if self.registry:
            e["DEPOT_REGISTRY"] = self.registry
        e.update(extra or {})
        return e

    def run(self, *args, cwd=None, input=None, env=None, timeout=60):
        return subprocess.run([depot_bin()] + [str(a) for a in args], cwd=cwd or self.root,
                              input=input, capture_output=True, text=True, timeout=timeout,
                              env=self.env(env))

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def close(self, keep=False):
        if keep:
            sys.stderr.write("[clients] kept %s\n" % self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def tree(root):
    """{relative path: sha256} of every file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


class ClientCase(unittest.TestCase):
    maxDiff = 4000

    def ok(self, p, what=""):
        self.assertEqual(p.returncode, 0, "%s exited %d\nstdout:\n%s\nstderr:\n%s"
                         % (what or " ".join(p.args[1:]), p.returncode, p.stdout, p.stderr))
        return p

    def fails(self, p, code=1, what=""):
        self.assertEqual(p.returncode, code, "%s should exit %d, exited %d\nstdout:\n%s\nstderr:\n%s"
                         % (what or " ".join(p.args[1:]), code, p.returncode, p.stdout, p.stderr))
        self.assertTrue(p.stderr.startswith("depot: ") or "\ndepot: " in p.stderr,
                        "errors go to stderr prefixed 'depot: ', got %r" % p.stderr)
        return p


# ------------------------------------------------------------------------------------------------


class EndToEnd(ClientCase):
    """The whole story against a real server. Steps run in name order and share state."""

    @classmethod
    def setUpClass(cls):
        cls.depot = Depot(name="clients")
        cls.depot.start()
        cls.c = ClientEnv(cls.depot.url)
        cls.failed = False
        for u in ("ann", "bob"):
            r = cls.depot.register(u, u + "@example.com", PASSWORD)
            if r.status != 201:
                raise RuntimeError("register %s: %s" % (u, r.describe()))

    @classmethod
    def tearDownClass(cls):
        cls.depot.close(keep=cls.failed)
        cls.c.close(keep=cls.failed)

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > before:
            type(self).failed = True
        return out

    def depot_cmd(self, *args, **kw):
        return self.c.run(*args, **kw)

    def api(self, method, path, **kw):
        kw.setdefault("auth", basic("ann", PASSWORD))
        return self.depot.request(method, path, **kw)

    def cli_tokens(self):
        r = self.api("GET", "/api/v1/tokens")
        self.assertEqual(r.status, 200, r.describe())
        return [t for t in r.json()["tokens"] if t["name"].startswith("cli-")]

    # ---- account ------------------------------------------------------------------------------

    def test_00_broken_credentials_file(self):
        os.makedirs(self.c.config, mode=0o700)
        write(os.path.join(self.c.config, "credentials.json"), "{not json")
        p = self.fails(self.depot_cmd("whoami"))
        self.assertIn("ignoring the saved credentials", p.stderr)
        self.assertIn("not logged in", p.stderr)
        # login (test_01) starts the file afresh

    def test_01_login(self):
        p = self.ok(self.depot_cmd("login", "--username", "ann", "--password-stdin",
                                   input=PASSWORD + "\n"))
        self.assertIn("ann", p.stdout)
        creds_path = os.path.join(self.c.config, "credentials.json")
        self.assertEqual(stat.S_IMODE(os.stat(creds_path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.c.config).st_mode), 0o700)
        with open(creds_path) as f:
            creds = json.load(f)
        entry = creds["registries"][self.depot.url]
        self.assertRegex(entry["token"], r"^dpt_[A-Za-z0-9_-]{43}$")
        self.assertNotIn(entry["token"], p.stdout + p.stderr, "the token must never be printed")
        self.assertNotIn(PASSWORD, p.stdout + p.stderr)
        toks = self.cli_tokens()
        self.assertEqual([t["name"] for t in toks], [entry["token_name"]])
        self.assertRegex(entry["token_name"], r"^cli-[A-Za-z0-9._-]+-\d{14}(-\d+)?$")
        # manage:native lets `depot owner` work; a publish scope alone never manages
        self.assertEqual(sorted(toks[0]["scopes"]), ["manage:native", "publish", "read"])
        type(self).token = entry["token"]

    def test_02_login_again_replaces_the_token(self):
        self.ok(self.depot_cmd("login", "--username", "ann", "--password-stdin",
                               input=PASSWORD + "\n"))
        self.assertEqual(len(self.cli_tokens()), 1, "a second login revokes the first token")
        with open(os.path.join(self.c.config, "credentials.json")) as f:
            type(self).token = json.load(f)["registries"][self.depot.url]["token"]
        bad = self.depot_cmd("login", "--username", "ann", "--password-stdin",
                             input="wrong password\n")
        self.fails(bad)
        self.assertIn("401", bad.stderr)

    def test_03_whoami(self):
        p = self.ok(self.depot_cmd("whoami"))
        self.assertEqual(p.stdout.strip(), "ann")
        # --registry wins over the environment: another registry has no saved token
        p = self.depot_cmd("whoami", "--registry", "http://127.0.0.1:9/")
        self.fails(p)
        self.assertIn("not logged in", p.stderr)

    def test_04_keygen(self):
        p = self.ok(self.depot_cmd("keygen"))
        key = os.path.join(self.c.config, "signing.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        with open(key) as f:
            sk = base64.b64decode(f.read().strip())
        with open(key + ".pub") as f:
            pub = f.read().strip()
        self.assertEqual(len(sk), 64)
        self.assertEqual(base64.b64decode(pub), sk[32:], "the .pub is the secret key's public half")
        self.assertIn(pub, p.stdout)
        self.assertNotIn(base64.b64encode(sk).decode(), p.stdout + p.stderr)
        type(self).key_id = hashlib.sha256(base64.b64decode(pub)).hexdigest()[:16]
        self.assertIn(self.key_id, p.stdout)
        again = self.fails(self.depot_cmd("keygen"))
        self.assertIn("exists", again.stderr)

    def test_05_key_register(self):
        self.ok(self.depot_cmd("key", "register", "--name", "laptop"))
        r = self.api("GET", "/api/v1/me/keys")
        self.assertEqual(r.status, 200, r.describe())
        body = r.json()
        keys = body["keys"] if isinstance(body, dict) else body
        self.assertIn(self.key_id, [k["key_id"] for k in keys])
        p = self.ok(self.depot_cmd("key", "list"))
        self.assertIn(self.key_id, p.stdout)

    # ---- publishing ---------------------------------------------------------------------------

    def make_left_pad(self):
        d = self.c.path("left-pad")
        write(os.path.join(d, "depot.json"), json.dumps({
            "name": "left-pad", "version": "1.0.0", "description": "Pads strings on the left",
            "license": "MIT", "keywords": ["string", "pad"], "readme": "README.md"}))
        write(os.path.join(d, "README.md"), "# left-pad\n")
        write(os.path.join(d, "src", "pad.c"), "int pad;\n")
        write(os.path.join(d, "src", "pad.h"), "int pad(void);\n")
        write(os.path.join(d, "build", "pad.o"), "object\n")
        write(os.path.join(d, "debug.log"), "log\n")
        write(os.path.join(d, "keep.log"), "kept by a negation\n")
        write(os.path.join(d, ".env"), "SECRET=1\n")
        write(os.path.join(d, "docs", "a", "b", "notes.tmp"), "tmp\n")
        write(os.path.join(d, "docs", "guide.md"), "guide\n")
        write(os.path.join(d, ".git", "HEAD"), "ref: refs/heads/main\n")
        write(os.path.join(d, "depot_modules", "dep", "x.c"), "dep\n")
        write(os.path.join(d, ".depotignore"),
              "# build output\nbuild/\n*.log\n!keep.log\n.env\ndocs/**/*.tmp\n")
        return d

    LEFT_PAD_FILES = [".depotignore", "README.md", "depot.json", "docs/guide.md", "keep.log",
                      "src/pad.c", "src/pad.h"]

    def test_06_publish(self):
        d = self.make_left_pad()
        dry = self.ok(self.depot_cmd("publish", d, "--dry-run"))
        listed = [ln.split()[-1] for ln in dry.stdout.splitlines() if ln.startswith(" ")]
        self.assertEqual(listed, self.LEFT_PAD_FILES)
        self.assertIn("signed with key " + self.key_id, dry.stdout)
        self.assertEqual(self.api("GET", "/api/v1/packages/left-pad").status, 404,
                         "--dry-run uploads nothing")

        p = self.ok(self.depot_cmd("publish", cwd=d))
        self.assertIn("left-pad@1.0.0", p.stdout)
        self.assertNotIn("upload [", p.stderr, "no progress bar when stderr is not a terminal")
        r = self.api("GET", "/api/v1/packages/left-pad/versions/1.0.0/download")
        self.assertEqual(r.status, 200, r.describe())
        with tarfile.open(fileobj=io.BytesIO(r.body), mode="r:gz") as t:
            names = sorted(m.name for m in t.getmembers() if m.isfile())
        self.assertEqual(names, self.LEFT_PAD_FILES)
        v = self.api("GET", "/api/v1/packages/left-pad/versions/1.0.0").json()
        self.assertEqual(v["sha256"], hashlib.sha256(r.body).hexdigest())
        self.assertIsNotNone(v["signature"], "publish signs when a key exists")
        self.assertEqual(v["signature"]["key_id"], self.key_id)
        type(self).left_pad_sha = v["sha256"]

        # the same version again: the server's message and status, exit 1
        again = self.fails(self.depot_cmd("publish", d))
        self.assertIn("409", again.stderr)
        self.assertIn("1.0.0", again.stderr)

    def test_07_publish_is_reproducible(self):
        d = self.c.path("left-pad")
        a = self.ok(self.depot_cmd("publish", d, "--dry-run")).stdout
        os.utime(os.path.join(d, "src", "pad.c"), (1, 1))
        b = self.ok(self.depot_cmd("publish", d, "--dry-run")).stdout
        sha = [ln for ln in a.splitlines() if "sha256" in ln]
        self.assertEqual(sha, [ln for ln in b.splitlines() if "sha256" in ln])
        self.assertIn(self.left_pad_sha, a)

    def test_08_search_and_info(self):
        p = self.ok(self.depot_cmd("search", "pad"))
        self.assertIn("left-pad", p.stdout)
        self.assertIn("1.0.0", p.stdout)
        p = self.ok(self.depot_cmd("search", "no-such-thing-at-all"))
        self.assertIn("No packages", p.stdout)
        p = self.ok(self.depot_cmd("info", "left-pad"))
        for s in ("left-pad", "1.0.0", "Pads strings on the left", "MIT", "ann"):
            self.assertIn(s, p.stdout)
        p = self.ok(self.depot_cmd("info", "left-pad@1.0.0"))
        self.assertIn(self.left_pad_sha, p.stdout)
        self.assertIn(self.key_id, p.stdout)
        p = self.ok(self.depot_cmd("info", "left-pad@1.0.0", "--json"))
        self.assertEqual(json.loads(p.stdout)["sha256"], self.left_pad_sha)
        p = self.fails(self.depot_cmd("info", "no-such-package"))
        self.assertIn("404", p.stderr)

    def test_09_publish_a_dependent(self):
        d = self.c.path("str-utils")
        write(os.path.join(d, "depot.json"), json.dumps({
            "name": "str-utils", "version": "2.0.0", "description": "String helpers",
            "license": "MIT", "dependencies": {"left-pad": "^1.0"}}))
        write(os.path.join(d, "lib", "str.c"), "int str;\n")
        self.ok(self.depot_cmd("publish", d, "--no-sign"))
        v = self.api("GET", "/api/v1/packages/str-utils/versions/2.0.0").json()
        self.assertIsNone(v["signature"], "--no-sign")
        self.assertEqual(v["dependencies"], {"left-pad": "^1.0"})

    # ---- installing ---------------------------------------------------------------------------

    def app(self):
        return self.c.path("app")

    def test_10_install(self):
        app = self.app()
        os.makedirs(app, exist_ok=True)
        p = self.fails(self.depot_cmd("install", "str-utils", cwd=app))
        self.assertIn("depot.json", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(app, "depot.json")),
                         "install never creates a depot.json")
        write(os.path.join(app, "depot.json"), json.dumps({"name": "app", "version": "0.1.0"}))
        p = self.ok(self.depot_cmd("install", "str-utils", cwd=app))
        self.assertIn("signed by key %s (not in your trusted keys)" % self.key_id, p.stderr)
        with open(os.path.join(app, "depot.json")) as f:
            self.assertEqual(json.load(f)["dependencies"], {"str-utils": "^2.0.0"})
        mods = os.path.join(app, "depot_modules")
        self.assertEqual(sorted(tree(os.path.join(mods, "left-pad"))),
                         sorted(self.LEFT_PAD_FILES))
        with open(os.path.join(mods, "str-utils", "lib", "str.c")) as f:
            self.assertEqual(f.read(), "int str;\n")
        self.assertEqual(sorted(os.listdir(mods)), ["left-pad", "str-utils"],
                         "no temp folders are left behind")
        with open(os.path.join(app, "depot.lock")) as f:
            text = f.read()
        lock = json.loads(text)
        self.assertEqual(text, json.dumps(lock, indent=2, sort_keys=True) + "\n",
                         "depot.lock has sorted keys")
        self.assertEqual(lock["packages"]["left-pad"]["version"], "1.0.0")
        self.assertEqual(lock["packages"]["left-pad"]["sha256"], self.left_pad_sha)
        self.assertEqual(lock["packages"]["str-utils"]["version"], "2.0.0")
        for e in lock["packages"].values():
            self.assertTrue(e["download_url"].startswith(self.depot.url), e)

    def test_11_trusted_key_verifies(self):
        pub = os.path.join(self.c.config, "signing.key.pub")
        self.ok(self.depot_cmd("key", "trust", pub))
        self.assertTrue(os.path.exists(os.path.join(self.c.config, "trusted_keys",
                                                    self.key_id + ".pub")))
        p = self.ok(self.depot_cmd("install", cwd=self.app()))
        self.assertIn("signature of left-pad@1.0.0 verified", p.stdout)
        self.assertNotIn("not in your trusted keys", p.stderr)

    def test_12_install_from_lock_is_exact(self):
        app = self.app()
        with open(os.path.join(app, "depot.lock")) as f:
            lock_before = f.read()
        before = tree(os.path.join(app, "depot_modules"))
        shutil.rmtree(os.path.join(app, "depot_modules"))
        # a newer left-pad exists now: the lock must keep 1.0.0 all the same
        d = self.c.path("left-pad")
        with open(os.path.join(d, "depot.json")) as f:
            m = json.load(f)
        m["version"] = "1.1.0"
        write(os.path.join(d, "depot.json"), json.dumps(m))
        self.ok(self.depot_cmd("publish", d))
        p = self.ok(self.depot_cmd("install", cwd=app))
        self.assertIn("from depot.lock", p.stdout)
        self.assertEqual(tree(os.path.join(app, "depot_modules")), before)
        with open(os.path.join(app, "depot.lock")) as f:
            self.assertEqual(f.read(), lock_before)
        self.ok(self.depot_cmd("install", "--locked", cwd=app))

    def test_13_lock_with_a_wrong_checksum_is_refused(self):
        app = self.app()
        lock_path = os.path.join(app, "depot.lock")
        with open(lock_path) as f:
            good = f.read()
        lock = json.loads(good)
        lock["packages"]["left-pad"]["sha256"] = "0" * 64
        write(lock_path, json.dumps(lock))
        before = tree(os.path.join(app, "depot_modules"))
        p = self.fails(self.depot_cmd("install", cwd=app))
        self.assertIn("checksum mismatch", p.stderr)
        self.assertEqual(tree(os.path.join(app, "depot_modules")), before,
                         "a failed install leaves depot_modules as it was")
        write(lock_path, good)

    def test_14_yank(self):
        app = self.app()
        self.ok(self.depot_cmd("yank", "left-pad@1.1.0"))
        self.ok(self.depot_cmd("yank", "left-pad@1.0.0"))
        v = self.api("GET", "/api/v1/packages/left-pad/versions/1.0.0").json()
        self.assertIs(v["yanked"], True)
        # with the lock, the yanked version still installs (reproducible builds)
        self.ok(self.depot_cmd("install", cwd=app))
        # without it, the resolver refuses, and says so clearly
        os.rename(os.path.join(app, "depot.lock"), os.path.join(app, "depot.lock.saved"))
        p = self.fails(self.depot_cmd("install", cwd=app))
        self.assertIn("cannot resolve", p.stderr)
        self.assertIn("left-pad", p.stderr)
        self.assertIn("pinned exactly", p.stderr)
        # an exact pin installs the yanked version
        p = self.ok(self.depot_cmd("install", "left-pad@=1.0.0", cwd=app))
        with open(os.path.join(app, "depot.json")) as f:
            self.assertEqual(json.load(f)["dependencies"],
                             {"str-utils": "^2.0.0", "left-pad": "=1.0.0"})
        with open(os.path.join(app, "depot.lock")) as f:
            self.assertEqual(json.load(f)["packages"]["left-pad"]["version"], "1.0.0")
        self.ok(self.depot_cmd("yank", "left-pad@1.1.0", "--undo"))
        v = self.api("GET", "/api/v1/packages/left-pad/versions/1.1.0").json()
        self.assertIs(v["yanked"], False)

    def test_15_removed_dependency_is_pruned(self):
        app = self.app()
        with open(os.path.join(app, "depot.json")) as f:
            m = json.load(f)
        m["dependencies"] = {"left-pad": "=1.0.0"}
        write(os.path.join(app, "depot.json"), json.dumps(m))
        self.ok(self.depot_cmd("install", cwd=app))
        self.assertEqual(sorted(os.listdir(os.path.join(app, "depot_modules"))), ["left-pad"])
        with open(os.path.join(app, "depot.lock")) as f:
            self.assertEqual(sorted(json.load(f)["packages"]), ["left-pad"])

    # ---- owners and logout --------------------------------------------------------------------

    def test_16_owners(self):
        self.ok(self.depot_cmd("owner", "add", "left-pad", "bob"))
        p = self.ok(self.depot_cmd("owner", "list", "left-pad"))
        self.assertEqual([ln.split()[0] for ln in p.stdout.splitlines()], ["ann", "bob"])
        self.ok(self.depot_cmd("owner", "remove", "left-pad", "bob"))
        p = self.ok(self.depot_cmd("owner", "list", "left-pad"))
        self.assertEqual([ln.split()[0] for ln in p.stdout.splitlines()], ["ann"])
        p = self.fails(self.depot_cmd("owner", "remove", "left-pad", "ann"))
        self.assertIn("409", p.stderr)
        self.fails(self.depot_cmd("owner", "frobnicate"), code=2)
        # a login with publish scopes only publishes: owners need manage
        self.ok(self.depot_cmd("login", "--username", "ann", "--password-stdin", "--scopes",
                               "read,publish", input=PASSWORD + "\n"))
        self.assertEqual(sorted(self.cli_tokens()[0]["scopes"]), ["publish", "read"])
        p = self.fails(self.depot_cmd("owner", "add", "left-pad", "bob"))
        self.assertIn("manage:native/left-pad", p.stderr)
        self.ok(self.depot_cmd("login", "--username", "ann", "--password-stdin",
                               input=PASSWORD + "\n"))
        self.ok(self.depot_cmd("owner", "add", "left-pad", "bob"))
        self.ok(self.depot_cmd("owner", "remove", "left-pad", "bob"))
        with open(os.path.join(self.c.config, "credentials.json")) as f:
            type(self).token = json.load(f)["registries"][self.depot.url]["token"]

    def test_17_logout(self):
        p = self.ok(self.depot_cmd("logout", "--password-stdin", input=PASSWORD + "\n"))
        self.assertIn("Logged out", p.stdout)
        self.assertEqual(self.cli_tokens(), [], "the token is revoked on the server")
        r = self.depot.get("/api/v1/me", auth="Bearer " + self.token)
        self.assertEqual(r.status, 401)
        with open(os.path.join(self.c.config, "credentials.json")) as f:
            self.assertNotIn(self.depot.url, json.load(f)["registries"])
        p = self.fails(self.depot_cmd("whoami"))
        self.assertIn("not logged in", p.stderr)
        self.fails(self.depot_cmd("logout"))
        p = self.fails(self.depot_cmd("publish", self.c.path("left-pad")))
        self.assertIn("depot login", p.stderr)


# ------------------------------------------------------------------------------------------------


class Offline(ClientCase):
    """What needs no server."""

    def setUp(self):
        self.c = ClientEnv("http://127.0.0.1:9")  # nothing listens on the discard port

    def tearDown(self):
        self.c.close()

    def dry_run(self, files, ignore, extra=()):
        d = self.c.path("pkg")
        write(os.path.join(d, "depot.json"), '{"name": "pkg", "version": "0.1.0"}')
        for f in files:
            write(os.path.join(d, f), "x\n")
        if ignore is not None:
            write(os.path.join(d, ".depotignore"), ignore)
        p = self.ok(self.c.run("publish", d, "--dry-run", "--no-sign", *extra))
        got = [ln.split()[-1] for ln in p.stdout.splitlines() if ln.startswith(" ")]
        return [f for f in got if f not in ("depot.json", ".depotignore")]

    def test_ignore_rules(self):
        files = ["a.c", "b.log", "keep.log", "x/b.log", "build/out", "src/build/out",
                 "docs/x.md", "docs/deep/y.md", "deep/docs/z.md", "top.txt", "src/top.txt",
                 "#hash", "a/b/c/d.tmp", "a/d.tmp", "lib/a.o", "lib/sub/b.o", "q1", "q22",
                 "cls1", "cls9"]
        cases = [
            ("", files),
            ("*.log\n", [f for f in files if not f.endswith(".log")]),
            ("*.log\n!keep.log\n", [f for f in files if f not in ("b.log", "x/b.log")]),
            ("build/\n", [f for f in files if f not in ("build/out", "src/build/out")]),
            ("/build\n", [f for f in files if f != "build/out"]),
            ("docs/*.md\n", [f for f in files if f != "docs/x.md"]),
            ("docs/**\n", [f for f in files if f not in ("docs/x.md", "docs/deep/y.md")]),
            ("**/docs/*.md\n", [f for f in files if f not in ("docs/x.md", "deep/docs/z.md")]),
            ("/top.txt\n", [f for f in files if f != "top.txt"]),
            ("top.txt\n", [f for f in files if f not in ("top.txt", "src/top.txt")]),
            ("\\#hash\n", [f for f in files if f != "#hash"]),
            ("# a comment\n\n", files),
            ("a/**/*.tmp\n", [f for f in files if f not in ("a/b/c/d.tmp", "a/d.tmp")]),
            ("lib/**/*.o\n", [f for f in files if not f.startswith("lib/")]),
            ("q?\n", [f for f in files if f != "q1"]),
            ("cls[0-5]\n", [f for f in files if f != "cls1"]),
            ("cls[!0-5]\n", [f for f in files if f != "cls9"]),
            ("lib/\n!lib/a.o\n", [f for f in files if not f.startswith("lib/")]),  # as git
            ("*\n!*.c\n", ["a.c"]),
        ]
        for ignore, want in cases:
            with self.subTest(ignore=ignore):
                shutil.rmtree(self.c.path("pkg"), ignore_errors=True)
                self.assertEqual(self.dry_run(files, ignore), sorted(want))

    def test_never_packed(self):
        d = self.c.path("pkg")
        os.makedirs(d)
        key = os.path.join(d, "my.key")
        self.ok(self.c.run("keygen", "--out", key))
        got = self.dry_run([".git/config", "depot_modules/x/y.c", "sub/depot_modules/z",
                            "ok.c", "sub/.git"], None, extra=("--sign-key", key))
        self.assertEqual(got, ["my.key.pub", "ok.c"], "the signing key stays out")
        os.symlink("/etc/passwd", os.path.join(d, "link"))
        p = self.ok(self.c.run("publish", d, "--dry-run", "--no-sign"))
        self.assertNotIn("link", [ln.split()[-1] for ln in p.stdout.splitlines()])
        self.assertIn("symlink link", p.stderr)

    def test_publish_needs_a_manifest(self):
        d = self.c.path("empty")
        os.makedirs(d)
        p = self.fails(self.c.run("publish", d, "--dry-run"))
        self.assertIn("depot.json", p.stderr)
        write(os.path.join(d, "depot.json"), '{"name": "x"}')
        p = self.fails(self.c.run("publish", d, "--dry-run"))
        self.assertIn('"version"', p.stderr)
        write(os.path.join(d, "depot.json"), '{"name": ')
        p = self.fails(self.c.run("publish", d, "--dry-run"))
        self.assertIn("line 1", p.stderr)

    def test_unreachable_registry(self):
        d = self.c.path("proj")
        write(os.path.join(d, "depot.json"), '{"name": "proj", "version": "1.0.0"}')
        p = self.fails(self.c.run("search", "x"))
        self.assertIn("127.0.0.1:9", p.stderr)
        p = self.fails(self.c.run("install", "left-pad", cwd=d))
        p = self.fails(self.c.run("login", "--username", "a", "--password-stdin", input="pw\n"))

    def test_usage(self):
        p = self.ok(self.c.run("help"))
        for cmd in ("login", "logout", "whoami", "keygen", "key", "publish", "search", "info",
                    "install", "yank", "owner"):
            self.assertIn("  " + cmd, p.stdout)
            h = self.ok(self.c.run(cmd, "--help"))
            self.assertIn("usage: depot " + cmd, h.stdout)
        self.assertIn("usage: depot publish", self.ok(self.c.run("help", "publish")).stdout)
        self.fails(self.c.run("publish", "--frobnicate"), code=2)
        self.fails(self.c.run("yank", "left-pad"), code=2)
        self.fails(self.c.run("info"), code=2)
        self.fails(self.c.run("search", "--page", "zero"), code=2)
        self.fails(self.c.run("whoami", "--registry"), code=2)
        self.fails(self.c.run("whoami", "--registry", "ftp://example.com"), code=2)
        self.fails(self.c.run("login", "--password-stdin", input="pw\n"), code=2)

    def test_keygen_out(self):
        out = self.c.path("keys", "k")
        os.makedirs(os.path.dirname(out))
        self.ok(self.c.run("keygen", "--out", out))
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        self.assertTrue(os.path.exists(out + ".pub"))
        self.fails(self.c.run("keygen", "--out", out))
        with open(out) as f:
            old = f.read()
        self.ok(self.c.run("keygen", "--out", out, "--force"))
        with open(out) as f:
            self.assertNotEqual(f.read(), old)


# ------------------------------------------------------------------------------------------------


def targz(entries):
    """A .tar.gz from [(name, kind, data_or_target)] where kind is f, d, l (symlink), h, c."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            if kind == "f":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE,
                       "c": tarfile.CHRTYPE}[kind]
            if kind in ("l", "h"):
                ti.linkname = data
            t.addfile(ti)
    return buf.getvalue()


class FakeRegistry:
    """Serves POST /api/v1/resolve, version documents and tarballs from a dict, as told."""

    def __init__(self):
        self.packages = {}   # name -> {"version", "tarball": bytes, "sha256"?, "signature"?, "key_id"?}
        self.names = None    # override the names in the resolve answer
        reg = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def send(self, status, body, ctype="application/json"):
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                if self.path != "/api/v1/resolve":
                    return self.send(404, {"error": {"code": "not_found", "message": "no"}})
                out = {}
                for name, p in reg.packages.items():
                    e = {"version": p["version"],
                         "sha256": p.get("sha256") or hashlib.sha256(p["tarball"]).hexdigest(),
                         "download_url": "%s/dl/%s" % (reg.url, name)}
                    if "signature" in p:
                        e["signature"] = p["signature"]
                        e["signing_key_id"] = p["key_id"]
                    out[name] = e
                self.send(200, {"packages": out})

            def do_GET(self):
                parts = self.path.split("/")
                if self.path.startswith("/dl/") and parts[2] in reg.packages:
                    return self.send(200, reg.packages[parts[2]]["tarball"], "application/gzip")
                if self.path.startswith("/api/v1/packages/") and len(parts) == 7:
                    p = reg.packages.get(parts[4])
                    if p:
                        return self.send(200, {"name": parts[4], "version": parts[6],
                                               "signature": None})
                self.send(404, {"error": {"code": "not_found", "message": "no such thing"}})

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class HostileRegistry(ClientCase):
    """A registry that lies: the client must refuse, and leave the project untouched."""

    @classmethod
    def setUpClass(cls):
        cls.reg = FakeRegistry()

    @classmethod
    def tearDownClass(cls):
        cls.reg.close()

    def setUp(self):
        self.c = ClientEnv(self.reg.url)
        self.proj = self.c.path("proj")
        write(os.path.join(self.proj, "depot.json"),
              json.dumps({"name": "proj", "version": "1.0.0", "dependencies": {"dep": "^1.0"}}))
        self.reg.packages = {}
        self.outside = self.c.path("outside")

    def tearDown(self):
        self.c.close()

    def good(self):
        return targz([("depot.json", "f", b'{"name":"dep","version":"1.0.0"}'),
                      ("src/", "d", None), ("src/a.c", "f", b"int a;\n")])

    def install(self):
        return self.c.run("install", cwd=self.proj)

    def assert_refused(self, tarball, expect, **extra):
        self.reg.packages = {"dep": dict({"version": "1.0.0", "tarball": tarball}, **extra)}
        p = self.fails(self.install())
        self.assertIn(expect, p.stderr)
        self.assertFalse(os.path.exists(self.outside), "an entry escaped the package folder")
        self.assertFalse(os.path.exists(os.path.join(self.proj, "depot.lock")))
        mods = os.path.join(self.proj, "depot_modules")
        self.assertEqual(os.listdir(mods) if os.path.isdir(mods) else [], [],
                         "nothing is left in depot_modules")
        return p

    def test_good_tarball_installs(self):
        self.reg.packages = {"dep": {"version": "1.0.0", "tarball": self.good()}}
        self.ok(self.install())
        with open(os.path.join(self.proj, "depot_modules", "dep", "src", "a.c")) as f:
            self.assertEqual(f.read(), "int a;\n")

    def test_dotdot(self):
        self.assert_refused(targz([("../../outside", "f", b"evil")]), "escapes")
        self.assert_refused(targz([("a/../../../outside", "f", b"evil")]), "escapes")

    def test_absolute(self):
        self.assert_refused(targz([(self.outside, "f", b"evil")]), "absolute")

    def test_links_and_devices(self):
        self.assert_refused(targz([("link", "l", self.outside)]), "symlink")
        self.assert_refused(targz([("a.c", "f", b"x"), ("hard", "h", "a.c")]), "hard link")
        self.assert_refused(targz([("dev", "c", None)]), "device")

    def test_duplicate_and_type_clash(self):
        self.assert_refused(targz([("a", "f", b"1"), ("a", "f", b"2")]), "twice")
        self.assert_refused(targz([("a", "f", b"1"), ("a/b", "f", b"2")]), "file and a folder")

    def test_not_a_tarball(self):
        self.assert_refused(b"this is not gzip at all", "cannot unpack")

    def test_checksum_mismatch(self):
        self.assert_refused(self.good(), "checksum mismatch", sha256="ab" * 32)

    def test_bad_signature_with_trusted_key(self):
        key = self.c.path("k")
        self.ok(self.c.run("keygen", "--out", key))
        self.ok(self.c.run("key", "trust", key + ".pub"))
        with open(key + ".pub") as f:
            kid = hashlib.sha256(base64.b64decode(f.read().strip())).hexdigest()[:16]
        bogus = base64.b64encode(os.urandom(64)).decode()
        self.assert_refused(self.good(), "does NOT verify", signature=bogus, key_id=kid)

    def test_unknown_key_is_a_note(self):
        self.reg.packages = {"dep": {"version": "1.0.0", "tarball": self.good(),
                                     "signature": base64.b64encode(b"x" * 64).decode(),
                                     "key_id": "00112233aabbccdd"}}
        p = self.ok(self.install())
        self.assertIn("signed by key 00112233aabbccdd (not in your trusted keys)", p.stderr)

    def test_key_id_that_is_a_path(self):
        self.assert_refused(self.good(), "malformed signature",
                            signature=base64.b64encode(b"x" * 64).decode(),
                            key_id="../../../../etc/passwd")

    def test_name_that_is_a_path(self):
        self.reg.packages = {"../outside": {"version": "1.0.0", "tarball": self.good()}}
        p = self.fails(self.install())
        self.assertIn("not a valid package name", p.stderr)
        self.assertFalse(os.path.exists(self.outside))

    def test_failed_install_keeps_the_previous_one(self):
        self.reg.packages = {"dep": {"version": "1.0.0", "tarball": self.good()}}
        self.ok(self.install())
        before = tree(os.path.join(self.proj, "depot_modules"))
        os.remove(os.path.join(self.proj, "depot.lock"))
        self.reg.packages = {"dep": {"version": "1.0.1",
                                     "tarball": targz([("../x", "f", b"evil")])}}
        self.fails(self.install())
        self.assertEqual(tree(os.path.join(self.proj, "depot_modules")), before)


if __name__ == "__main__":
    unittest.main()
