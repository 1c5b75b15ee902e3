#!/usr/bin/env python3
"""
test_rebar3.py — the real rebar3 (Debian's 3.19, hex_core 0.7.1) against depot's Hex repository.

The test publishes through depot's Hex API two Erlang packages it builds itself as Hex v3 tarballs
(hexchain_base, and hexchain_top which requires it), then a rebar3 project that depends on
hexchain_top, configured by its rebar.config alone (repo_url, name, public key: the one depot
serves at /public_key), fetches and compiles the chain and runs it. Then rebar3 must refuse:
a tarball whose bytes changed on the server (checksum mismatch against the signed registry), and
a registry signed by a key other than the one configured.

    DEPOT_BIN=build/depot python3 tests/clients/hex/test_rebar3.py

Prints one line per test and `hex-clients: N passed, N failed[, N skipped]`; exits 1 on failure.
Skips (and says so) when rebar3 or erl is not installed.
"""

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "harness"))

from depot import Depot  # noqa: E402
from hex.hextest import hex_tarball, requirement  # noqa: E402

BASE = "hexchain_base"
TOP = "hexchain_top"


def erlang_files(name, body, deps=()):
    app = ("{application, %s, [{description, \"%s\"}, {vsn, \"1.0.0\"}, {registered, []},\n"
           " {applications, [kernel, stdlib%s]}, {env, []}, {modules, []}]}.\n"
           % (name, name, "".join(", " + d for d in deps)))
    return {
        "src/%s.app.src" % name: app,
        "src/%s.erl" % name: "-module(%s).\n-export([hello/0]).\n%s\n" % (name, body),
        "rebar.config": "{erl_opts, [debug_info]}.\n{deps, [%s]}.\n"
                        % ", ".join("{%s, \"~> 1.0\"}" % d for d in deps),
    }


class Rebar3(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        if not shutil.which("rebar3") or not shutil.which("erl"):
            raise unittest.SkipTest("rebar3 or erl is not installed (scripts/install-deps test)")
        cls.tmp = tempfile.mkdtemp(prefix="depot-rebar3-")
        cls.depot = Depot(name="rebar3")
        cls.depot.start()
        r = cls.depot.register("rebar", "rebar@example.com", "rebar-password-1")
        assert r.status == 201, r.describe()
        jwt = cls.depot.jwt("rebar", "rebar-password-1")
        r = cls.depot.create_token("Bearer " + jwt, "hex", ["publish:hex", "manage:hex"])
        assert r.status == 201, r.describe()
        cls.key = r.json()["token"]
        cls.pem = cls.depot.get("/hex/repo/public_key").body.decode()
        cls.tarballs = {}
        for name, files, reqs in (
                (BASE, erlang_files(BASE, "hello() -> <<\"hello from base\">>."), []),
                (TOP, erlang_files(TOP, "hello() -> {top, %s:hello()}." % BASE, [BASE]),
                 [requirement(BASE, "~> 1.0", repository="depot")])):
            t = hex_tarball(name, "1.0.0", files=files, requirements=reqs, shape="rebar3")
            r = cls.depot.request("POST", "/hex/api/publish?replace=false", body=t,
                                  headers={"Authorization": cls.key,
                                           "Content-Type": "application/octet-stream",
                                           "Accept": "application/vnd.hex+erlang"})
            assert r.status == 201, r.describe()
            cls.tarballs[name] = t

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "depot"):
            cls.depot.close()
        if hasattr(cls, "tmp"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def project(self, tag, pem=None):
        """A fresh rebar3 project depending on hexchain_top, with its own HOME and caches."""
        root = os.path.join(self.tmp, tag)
        for d in ("proj", "home", "cache", "global"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        key = (pem or self.pem).replace("\n", "\\n")
        with open(os.path.join(root, "proj", "rebar.config"), "w") as f:
            f.write("{erl_opts, [debug_info]}.\n"
                    "{deps, [{%s, \"~> 1.0\"}]}.\n"
                    "{hex, [{repos, replace, [#{name => <<\"depot\">>,\n"
                    "    repo_url => <<\"%s/hex/repo\">>,\n"
                    "    repo_public_key => <<\"%s\">>}]}]}.\n" % (TOP, self.depot.url, key))
        return root

    def rebar3(self, root, *args):
        env = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin",
               "HOME": os.path.join(root, "home"), "REBAR_CACHE_DIR": os.path.join(root, "cache"),
               "REBAR_GLOBAL_CONFIG_DIR": os.path.join(root, "global")}
        return subprocess.run(["rebar3"] + list(args), cwd=os.path.join(root, "proj"), env=env,
                              capture_output=True, text=True, timeout=300)

    def test_1_fetch_and_compile_the_chain(self):
        root = self.project("good")
        p = self.rebar3(root, "compile")
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("Fetching %s" % TOP, out)
        self.assertIn("Fetching %s" % BASE, out)
        libs = os.path.join(root, "proj", "_build", "default", "lib")
        for name in (BASE, TOP):
            self.assertTrue(glob.glob(os.path.join(libs, name, "ebin", name + ".beam")), out)
        run = subprocess.run(["erl", "-noshell", "-pa"] + glob.glob(os.path.join(libs, "*", "ebin")) +
                             ["-eval", "io:format(\"~p\", [%s:hello()]), halt()." % TOP],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(run.stdout, "{top,<<\"hello from base\">>}", run.stderr)
        with open(os.path.join(root, "proj", "rebar.lock")) as f:
            lock = f.read()
        self.assertIn(hashlib.sha256(self.tarballs[TOP]).hexdigest().upper(), lock)

    def test_2_refuses_a_tampered_tarball(self):
        digest = hashlib.sha256(self.tarballs[BASE]).hexdigest()
        blobs = glob.glob(os.path.join(self.depot.data_dir, "blobs", "**", digest), recursive=True)
        self.assertEqual(len(blobs), 1, "the tarball's blob")
        blob = blobs[0]
        mode = os.stat(blob).st_mode
        os.chmod(blob, 0o644)
        with open(blob, "r+b") as f:
            data = bytearray(f.read())
            data[600] ^= 0xFF  # inside VERSION/CHECKSUM's blocks: same size, other bytes
            f.seek(0)
            f.write(data)
        try:
            root = self.project("tampered")
            p = self.rebar3(root, "compile")
            out = p.stdout + p.stderr
            self.assertNotEqual(p.returncode, 0, "rebar3 accepted a tampered tarball:\n" + out)
            # rebar3 3.19 says bad_registry_checksum (and then fails to format it)
            self.assertIn("checksum", out.lower(), out)
            self.assertFalse(glob.glob(os.path.join(root, "proj", "_build", "default", "lib", BASE, "ebin",
                                                    "*.beam")))
        finally:
            with open(blob, "r+b") as f:
                f.write(self.tarballs[BASE])
            os.chmod(blob, mode)

    def test_3_refuses_a_registry_signed_by_another_key(self):
        other = subprocess.run("openssl genrsa 2048 2>/dev/null | openssl rsa -pubout 2>/dev/null",
                               shell=True, capture_output=True, text=True).stdout
        self.assertIn("BEGIN PUBLIC KEY", other)
        root = self.project("wrongkey", pem=other)
        p = self.rebar3(root, "compile")
        self.assertNotEqual(p.returncode, 0, "rebar3 accepted a registry signed by another key:\n"
                            + p.stdout + p.stderr)
        self.assertFalse(glob.glob(os.path.join(root, "proj", "_build", "default", "lib", TOP)))


if __name__ == "__main__":
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(Rebar3))
    failed = len(result.failures) + len(result.errors)
    line = "hex-clients: %d passed, %d failed" % (result.testsRun - failed - len(result.skipped), failed)
    if result.skipped:
        line += ", %d skipped" % len(result.skipped)
    print(line)
    sys.exit(1 if failed else 0)
