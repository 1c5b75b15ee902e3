"""
test_repository.py — the Hex repository mount (/hex/repo): /packages/NAME, /names and /versions
as gzip(Signed(protobuf)) with signatures that openssl verifies against /public_key and the
configured repository name inside; never Content-Encoding; releases ascending, both checksums,
dependencies with `repository` only when foreign, retired releases; tarballs with ETag and
If-None-Match (an empty value never matches), downloads counted; /repos/NAME prefixes;
private mode (the raw key in authorization); the key file's mode; `depot hex fingerprint`.
"""

import os
import stat
import subprocess
import tempfile

from hex.hextest import (HexTestCase, decode_package, hex_tarball, inner_checksum, open_registry,
                     packed_varints, pb_all, pb_fields, pb_get, requirement, sha256)


class Registry(HexTestCase):
    own_hex_key = True  # test_public_key_and_fingerprint looks at the key the server wrote

    def test_package_resource(self):
        dep = self.uniq("regdep")
        self.published(dep, "1.0.0")
        name = self.uniq("regpkg")
        reqs = [requirement(dep, "~> 1.0", repository="depot"),
                requirement("jason", "~> 1.4", repository="hexpm"),
                requirement(dep + "_missing_ok", ">= 0.0.0", repository="hexpm", optional=True,
                            app="other_app")]
        tars = {}
        for v in ("1.10.0", "1.2.0", "1.0.0-rc.1", "1.0.0"):
            tars[v] = hex_tarball(name, v, requirements=reqs)
            self.assertStatus(self.publish(tars[v], name=name), 201)
        r = self.repo_get("/packages/" + name, headers={"Accept-Encoding": "gzip"})
        self.assertStatus(r, 200)
        self.assertIsNone(r.headers.get("Content-Encoding"), "registry files carry no Content-Encoding")
        self.assertEqual(r.body[:2], b"\x1f\x8b", "the body is gzip bytes")
        payload, _ = open_registry(r.body, self.public_key())
        pkg = decode_package(payload)
        self.assertEqual(pkg["name"], name)
        self.assertEqual(pkg["repository"], "depot")
        self.assertEqual([x["version"] for x in pkg["releases"]], ["1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0"])
        for rel in pkg["releases"]:
            t = tars[rel["version"]]
            self.assertEqual(rel["outer"].hex(), sha256(t))
            self.assertEqual(rel["inner"].hex(), inner_checksum(t))
            deps = {d["package"]: d for d in rel["deps"]}
            self.assertEqual(list(deps), sorted(deps))
            self.assertIsNone(deps[dep]["repository"], "a dependency in this repository names none")
            self.assertEqual(deps["jason"]["repository"], "hexpm")
            self.assertIsNone(deps["jason"]["optional"], "optional only when true")
            self.assertIsNone(deps["jason"]["app"], "app only when it differs")
            self.assertEqual(deps[dep + "_missing_ok"]["app"], "other_app")
            self.assertEqual(deps[dep + "_missing_ok"]["optional"], 1)

    def test_unknown_package_and_bad_repo_name(self):
        self.assertStatus(self.repo_get("/packages/nosuchpkg"), 404)
        self.assertStatus(self.repo_get("/repos/depot/packages/nosuchpkg"), 404)
        name = self.uniq("repopre")
        self.published(name)
        self.assertStatus(self.repo_get("/repos/depot/packages/" + name), 200)
        self.assertStatus(self.repo_get("/repos/other/packages/" + name), 404)
        self.assertStatus(self.repo_get("/repos/hexpm/packages/" + name), 404)

    def test_names_and_versions(self):
        a, b = self.uniq("nva"), self.uniq("nvb")
        self.published(a, "1.0.0")
        self.published(a, "2.0.0")
        self.published(b, "0.1.0")
        r = self.api("POST", "/packages/%s/releases/1.0.0/retire" % a,
                     {"reason": "security", "message": "CVE-2026-1"}, key=self.key)
        self.assertStatus(r, 204)
        pem = self.public_key()
        for path in ("/names", "/versions", "/repos/depot/names"):
            r = self.repo_get(path)
            self.assertStatus(r, 200)
            self.assertIsNone(r.headers.get("Content-Encoding"))
            payload, _ = open_registry(r.body, pem)
            f = pb_fields(payload)
            self.assertEqual(pb_get(f, 2), b"depot")
            pkgs = [pb_fields(x) for x in pb_all(f, 1)]
            names = [pb_get(p, 1).decode() for p in pkgs]
            self.assertEqual(names, sorted(names))
            self.assertIn(a, names)
            if path == "/versions":
                pa = pkgs[names.index(a)]
                self.assertEqual([v.decode() for v in pb_all(pa, 2)], ["1.0.0", "2.0.0"])
                self.assertEqual(packed_varints(pb_get(pa, 3)), [0], "retired indexes, packed")
        # a later change shows at once
        c = self.uniq("nvc")
        self.published(c)
        payload, _ = open_registry(self.repo_get("/names").body, pem)
        self.assertIn(c, [pb_get(pb_fields(x), 1).decode() for x in pb_all(pb_fields(payload), 1)])

    def test_tarball_etag_and_conditional(self):
        name = self.uniq("tarb")
        t = self.published(name)
        path = "/tarballs/%s-1.0.0.tar" % name
        r = self.repo_get(path, headers={"If-None-Match": ""})  # rebar3's first download
        self.assertStatus(r, 200)
        self.assertEqual(r.body, t)
        etag = r.headers.get("ETag")
        self.assertTrue(etag and etag.startswith('"'), "rebar3 needs an ETag: %r" % etag)
        r2 = self.repo_get(path, headers={"If-None-Match": etag})
        self.assertStatus(r2, 304)
        self.assertStatus(self.repo_get(path, headers={"If-None-Match": '"other"'}), 200)
        self.assertStatus(self.repo_get("/repos/depot" + path), 200)
        self.assertStatus(self.repo_get("/tarballs/%s-9.9.9.tar" % name), 404)
        self.assertStatus(self.repo_get("/tarballs/%s.tar" % name), 404)
        self.assertStatus(self.repo_get("/tarballs/%s-1.0.0.tgz" % name), 404)

    def test_registry_etag(self):
        name = self.uniq("regetag")
        self.published(name)
        r = self.repo_get("/packages/" + name)
        etag = r.headers.get("ETag")
        self.assertTrue(etag)
        self.assertStatus(self.repo_get("/packages/" + name, headers={"If-None-Match": etag}), 304)
        self.published(name, "1.1.0")
        r2 = self.repo_get("/packages/" + name, headers={"If-None-Match": etag})
        self.assertStatus(r2, 200)
        self.assertEqual(len(decode_package(open_registry(r2.body)[0])["releases"]), 2)

    def test_public_key_and_fingerprint(self):
        pem = self.public_key()
        self.assertTrue(pem.startswith(b"-----BEGIN PUBLIC KEY-----"))
        p = self.depot.cli("hex", "fingerprint")
        self.assertEqual(p.returncode, 0, p.stderr)
        fp = p.stdout.strip()
        self.assertRegex(fp, r"^SHA256:[A-Za-z0-9+/]{43}$")
        self.assertEqual(self.repo_get("/public_key").headers.get("X-Hex-Fingerprint"), fp)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "k.pem"), "wb") as f:
                f.write(pem)
            ssh = subprocess.run("ssh-keygen -i -m PKCS8 -f %s/k.pem > %s/k.pub && ssh-keygen -l -E sha256 -f %s/k.pub"
                                 % (d, d, d), shell=True, capture_output=True, text=True)
            if ssh.returncode == 0:
                self.assertIn(fp, ssh.stdout)
        p = self.depot.cli("hex", "public-key")
        self.assertEqual(p.stdout.encode(), pem)
        key = os.path.join(self.depot.data_dir, "hex_repo_key.pem")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)

    def test_downloads_counted_and_head(self):
        name = self.uniq("dlcount")
        self.published(name)
        path = "/tarballs/%s-1.0.0.tar" % name
        for _ in range(3):
            self.assertStatus(self.repo_get(path), 200)
        h = self.depot.request("HEAD", "/hex/repo" + path)
        self.assertStatus(h, 200)
        self.assertTrue(h.headers.get("ETag"))


class Private(HexTestCase):
    depot_args = ("--private",)

    def test_reads_need_a_key(self):
        name = self.uniq("privpkg")
        self.published(name)
        for path in ("/packages/" + name, "/names", "/tarballs/%s-1.0.0.tar" % name):
            r = self.repo_get(path)
            self.assertStatus(r, 401)
            self.assertIn("application/json", r.headers.get("Content-Type"))
        self.assertStatus(self.repo_get("/public_key"), 200)  # no secret: --fetch-public-key needs it
        r = self.depot.create_token(self.owner.bearer, self.uniq("ro"), ["read"])
        ro = r.json()["token"]
        for path in ("/packages/" + name, "/names", "/tarballs/%s-1.0.0.tar" % name):
            self.assertStatus(self.repo_get(path, headers={"Authorization": ro}), 200)  # raw key
            self.assertStatus(self.repo_get(path, headers={"Authorization": "Bearer " + ro}), 200)
        self.assertStatus(self.repo_get("/names", headers={"Authorization": "wrong-key"}), 401)
        r = self.repo_get("/packages/" + name, headers={"Authorization": ro})
        self.assertIn("private", r.headers.get("Cache-Control") or "")


class OtherName(HexTestCase):
    depot_args = ("--hex-repo", "acme")

    def test_configured_name_is_signed_in(self):
        name = self.uniq("acmepkg")
        self.published(name, requirements=[requirement("jason", repository="hexpm")])
        pkg = self.registry_package(name)
        self.assertEqual(pkg["repository"], "acme")
        self.assertStatus(self.repo_get("/repos/acme/packages/" + name), 200)
        self.assertStatus(self.repo_get("/repos/depot/packages/" + name), 404)
        r = self.api("GET", "/repos")
        self.assertEqual([x["name"] for x in self.term(r)], ["acme"])
