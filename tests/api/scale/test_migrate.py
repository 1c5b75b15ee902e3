"""
test_migrate.py — moving a registry from `make run`'s SQLite store and blob folder to PostgreSQL
and S3 with `depot migrate-store` and `depot migrate-blobs`, black-box (docs/migrating.md).

A server on SQLite + a blob folder (chosen explicitly, so the test is the same in the
`--store postgres` and `--blobs s3` runs) is filled through HTTP in every ecosystem: accounts,
tokens, native versions with a yank, an added owner, a docs site and downloads; Hex, npm and pub
packages. It is stopped; the source files are hashed; migrate-store is killed after its first
progress line (one row per batch) and run again (it resumes: rows already there are counted as
such), then once more (nothing left to copy); migrate-blobs copies into a throwaway s3rver
(tests/harness/s3.py) and a second run finds everything there. A row changed in the target makes
a further migrate-store refuse, naming the row, and leave it as it is. A server on the same data
folder (secrets), the same port (base URL), the new PostgreSQL database (tests/harness/pg.py) and the
bucket must serve byte for byte what the old one served: native package and owners documents, a
docs page, Hex /packages/NAME, /names and /versions, the npm packument (both forms), the pub
listing (npm's _rev, the generation the move bumps, only moves forward), and every tarball (whose
SHA-256 is the one the documents name); tokens and JWTs made before still work, and new rows
get new ids. The source files are unchanged throughout.
A missing PostgreSQL or s3rver (Node.js) fails the test (scale/stack.py).
"""

import hashlib
import os
import re
import signal
import subprocess

from native.nativetest import PACKAGES, targz
from hex.hextest import API as HEX_API, ETF, REPO as HEX_REPO, hex_tarball
from npm.npmtest import NPM, CORGI, esc, publish_doc
from pub.dartpub import DartPub, package as pub_package

from scale.stack import StackTestCase


def tree_hashes(*paths):
    """SHA-256 of every file under (or at) each path, by relative name."""
    out = {}
    for top in paths:
        if os.path.isfile(top):
            with open(top, "rb") as f:
                out[top] = hashlib.sha256(f.read()).hexdigest()
            continue
        for dirpath, _, files in os.walk(top):
            for name in files:
                p = os.path.join(dirpath, name)
                with open(p, "rb") as f:
                    out[p] = hashlib.sha256(f.read()).hexdigest()
    return out


class MigrateToPostgresAndS3(StackTestCase):
    services = ("pg", "s3")

    # ---- filling the old registry -------------------------------------------------------------

    def fill(self, d):
        owner = self.register_user(d, prefix="owner")  # the first account: an admin
        other = self.register_user(d, prefix="other")
        self.token, _ = self.make_token(owner.bearer, ("read", "publish"), depot=d)
        self.owner = owner
        names = {}

        # native: three versions, one yanked, a second owner, a docs site, downloads
        n = names["native"] = self.pkgname("mignat")
        for v in ("1.0.0", "1.1.0", "2.0.0"):
            self.published("Bearer " + self.token, n, v, depot=d,
                           description="migrated package", keywords=["migrate"])
        self.assertStatus(d.request("PUT", "%s/%s/versions/1.1.0/yank" % (PACKAGES, n),
                                    auth=owner.bearer), 200)
        self.assertStatus(d.request("PUT", "%s/%s/owners/%s" % (PACKAGES, n, other.username),
                                    auth=owner.bearer), 200, 201)
        r = d.request("POST", "%s/%s/versions/1.0.0/docs" % (PACKAGES, n),
                      body=targz([("index.html", "<h1>docs of %s</h1>" % n),
                                  ("guide/intro.html", "<p>intro</p>")]),
                      headers={"Content-Type": "application/gzip"}, auth=owner.bearer)
        self.assertStatus(r, 201)
        for _ in range(3):
            self.assertStatus(d.get("%s/%s/versions/2.0.0/download" % (PACKAGES, n)), 200)

        # Hex: two releases with an API key
        h = names["hex"] = "mighex_" + self.uniq("h").lower()
        r = d.create_token(owner.bearer, self.uniq("hexkey"), ["publish:hex"])
        self.assertStatus(r, 201)
        key = r.json()["token"]
        for v in ("0.1.0", "0.2.0"):
            r = d.request("POST", HEX_API + "/publish?replace=false", body=hex_tarball(h, v),
                          headers={"Accept": ETF, "Content-Type": "application/octet-stream",
                                   "Authorization": key})
            self.assertStatus(r, 201)

        # npm: couch login, two versions
        m = names["npm"] = self.pkgname("mignpm")
        r = d.request("PUT", NPM + "/-/user/org.couchdb.user:" + owner.username,
                      json={"_id": "org.couchdb.user:" + owner.username, "name": owner.username,
                            "password": owner.password, "type": "user", "roles": [],
                            "date": "2026-01-01T00:00:00.000Z"})
        self.assertStatus(r, 201)
        npm_auth = "Bearer " + r.json()["token"]
        for v in ("1.0.0", "1.0.1"):
            r = d.request("PUT", NPM + "/" + esc(m), auth=npm_auth,
                          json=publish_doc(m, v, registry=d.url + NPM + "/"))
            self.assertStatus(r, 200, 201)

        # pub: the three-step publish of `dart pub publish`
        p = names["pub"] = "migpub_" + self.uniq("p").lower()
        r = d.create_token(owner.bearer, self.uniq("pubtok"), ["read", "publish:pub"])
        self.assertStatus(r, 201)
        client = DartPub(d, d.url + "/pub", token=r.json()["token"])
        for v in ("1.0.0", "1.1.0"):
            res = client.publish(pub_package(p, v), p)
            self.assertEqual(res.exit, 0, res)
        return names

    # ---- what a server serves -------------------------------------------------------------------

    def documents(self, d, names):
        """Every document the test compares: path -> (status, body)."""
        n, h, m, p = names["native"], names["hex"], names["npm"], names["pub"]
        reqs = [
            ("%s/%s" % (PACKAGES, n), {}),
            ("%s/%s/owners" % (PACKAGES, n), {}),
            ("%s/%s/versions/1.0.0" % (PACKAGES, n), {}),
            ("/docs/native/%s/1.0.0/index.html" % n, {}),
            ("/docs/native/%s/1.0.0/guide/intro.html" % n, {}),
            (HEX_REPO + "/packages/" + h, {}),
            (HEX_REPO + "/names", {}),
            (HEX_REPO + "/versions", {}),
            (HEX_API + "/packages/" + h, {"Accept": "application/json"}),
            (NPM + "/" + esc(m), {"Accept": "application/json"}),
            (NPM + "/" + esc(m), {"Accept": CORGI}),
            ("/pub/api/packages/" + p, {"Accept": "application/vnd.pub.v2+json"}),
        ]
        out = {}
        for path, headers in reqs:
            r = d.request("GET", path, headers=headers)
            self.assertStatus(r, 200)
            out[(path, headers.get("Accept"))] = r.body
        return out

    def tarballs(self, d, names):
        """Every tarball's bytes, by the URL the documents give; each must hash to the SHA-256
        its document names."""
        n, h, m, p = names["native"], names["hex"], names["npm"], names["pub"]
        out = {}
        doc = d.get("%s/%s" % (PACKAGES, n)).json()
        for v in doc["versions"]:
            r = d.get("%s/%s/versions/%s/download" % (PACKAGES, n, v["version"]))
            self.assertStatus(r, 200)
            self.assertEqual(hashlib.sha256(r.body).hexdigest(), v["sha256"])
            out[v["version"]] = r.body
        for v in ("0.1.0", "0.2.0"):
            r = d.get(HEX_REPO + "/tarballs/%s-%s.tar" % (h, v))
            self.assertStatus(r, 200)
            out["hex " + v] = r.body
        pack = d.request("GET", NPM + "/" + esc(m), headers={"Accept": "application/json"}).json()
        for v, man in pack["versions"].items():
            r = d.get(self.path_of(man["dist"]["tarball"]))
            self.assertStatus(r, 200)
            self.assertEqual(hashlib.sha1(r.body).hexdigest(), man["dist"]["shasum"])
            out["npm " + v] = r.body
        listing = d.request("GET", "/pub/api/packages/" + p,
                            headers={"Accept": "application/vnd.pub.v2+json"}).json()
        for v in listing["versions"]:
            r = d.get(self.path_of(v["archive_url"]))
            self.assertStatus(r, 200)
            self.assertEqual(hashlib.sha256(r.body).hexdigest(), v["archive_sha256"])
            out["pub " + v["version"]] = r.body
        return out

    # ---- the commands ---------------------------------------------------------------------------

    def run_depot(self, *args, timeout=120):
        p = subprocess.run([self.depot_bin] + list(args), capture_output=True, text=True,
                           timeout=timeout, cwd=self.work)
        return p

    def test_sqlite_and_folder_move_to_postgres_and_s3(self):
        d = self.make_depot(extra_args=["--store", "sqlite:data/depot.db",
                                        "--blobs", "file:data/blobs"])
        self.depot_bin, self.work = d.binary, d.root
        db = os.path.join(d.data_dir, "depot.db")
        blobs = os.path.join(d.data_dir, "blobs")
        names = self.fill(d)

        # The same port from now on, so the base URL (and every URL in a document) stays.
        d.listen = "127.0.0.1:%d" % d.port
        d.stop()
        d.start()  # tarballs first: their downloads are counted, and flushed when it stops
        old_tarballs = self.tarballs(d, names)
        d.stop()
        d.start()
        old_docs = self.documents(d, names)
        old_jwt = d.jwt(self.owner.username, self.owner.password)
        self.assertEqual(d.stop(), 0)

        source = tree_hashes(db, blobs)
        self.assertTrue(any("/blobs/" in k for k in source), source)
        pg_url = self.pg.create_database()
        pg_db = pg_url.rsplit("/", 1)[-1]

        # migrate-store, killed after its first progress line with a row done ...
        proc = subprocess.Popen([self.depot_bin, "migrate-store", "--from", "sqlite:" + db,
                                 "--to", pg_url, "--batch", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.work)
        seen = []
        for line in iter(proc.stderr.readline, b""):
            seen.append(line.decode())
            if re.match(r"migrate-store: \w+: [1-9]\d*/\d+ rows", seen[-1]):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()
        self.assertEqual(proc.returncode, -signal.SIGKILL, "".join(seen))
        copied = int(self.pg.query("SELECT count(*) FROM audit_log", db=pg_db)[0][0])
        self.assertGreater(copied, 0, "the first batch should be committed before the kill")

        # ... resumes: the rows already there are skipped and checked
        p = self.run_depot("migrate-store", "--from", "sqlite:" + db, "--to", pg_url)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        m = re.search(r"\((\d+) copied now, (\d+) there already\)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertGreater(int(m.group(1)), 0, p.stdout)
        self.assertGreaterEqual(int(m.group(2)), copied, p.stdout)
        self.assertRegex(p.stderr, r"migrate-store: packages: \d+/\d+ rows")
        # ... and once complete, a further run finds nothing to copy and still verifies
        p = self.run_depot("migrate-store", "--from", "sqlite:" + db, "--to", pg_url)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"\(0 copied now, \d+ there already\)")

        s3_url = self.s3.url_with("migrated", cache=0)
        p = self.run_depot("migrate-blobs", "--from", "file:" + blobs, "--to", s3_url,
                           "--store", pg_url, "--data", d.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        m = re.search(r"(\d+) blobs: (\d+) copied, (\d+) there already, 0 failed", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertGreater(int(m.group(2)), 0)
        self.assertRegex(p.stderr, r"\d+/\d+ blobs, [\d.]+/[\d.]+ MiB")
        total = int(m.group(1))
        p = self.run_depot("migrate-blobs", "--from", "file:" + blobs, "--to", s3_url,
                           "--store", pg_url, "--data", d.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("%d blobs: 0 copied, %d there already, 0 failed" % (total, total), p.stdout)
        self.assertTrue(any(k.startswith("migrated/") for k in self.s3.objects()))

        # Other data under a key in the target: refused, named, and left alone.
        sql = "UPDATE users SET email = %s WHERE id = (SELECT min(id) FROM users) RETURNING 1"
        before = self.pg.query("SELECT email FROM users WHERE id = (SELECT min(id) FROM users)",
                                    db=pg_db)[0][0]
        self.pg.query(sql % "'changed@example.com'", db=pg_db)
        p = self.run_depot("migrate-store", "--from", "sqlite:" + db, "--to", pg_url)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"other data for users id=\d+ \(column email")
        rows = self.pg.query("SELECT email FROM users WHERE id = (SELECT min(id) FROM users)",
                                  db=pg_db)
        self.assertEqual(rows[0][0], "changed@example.com")
        self.pg.query(sql % ("'%s'" % before), db=pg_db)

        self.assertEqual(tree_hashes(db, blobs), source, "the source must not change")

        # The new backends serve the same bytes at the same URLs.
        d.extra_args = ["--store", pg_url, "--blobs", s3_url]
        d.start()
        new_docs = self.documents(d, names)
        for key in old_docs:
            old, new = old_docs[key], new_docs[key]
            if key[0].startswith(NPM + "/") and key[1] == "application/json":
                # npm's _rev is the package's generation, which the move bumps on purpose (no
                # server may keep a document cached from before): it must have moved forward.
                rev = re.compile(rb'"_rev":"(\d+)-[0-9a-f]+"')
                self.assertGreater(int(rev.search(new).group(1)), int(rev.search(old).group(1)))
                old, new = rev.sub(b'"_rev":""', old), rev.sub(b'"_rev":""', new)
            self.assertEqual(new, old, "%s differs after the move" % (key,))
        new_tarballs = self.tarballs(d, names)
        self.assertEqual(sorted(new_tarballs), sorted(old_tarballs))
        for key in old_tarballs:
            self.assertEqual(new_tarballs[key], old_tarballs[key], key)

        # Credentials made before still work; new rows get new ids.
        r = d.get("/api/v1/me", auth="Bearer " + self.token)
        self.assertEqual(self.assertJSON(r)["username"], self.owner.username)
        self.assertEqual(self.assertJSON(d.get("/api/v1/me", auth="Bearer " + old_jwt))["username"],
                         self.owner.username)
        self.register_user(d, prefix="after")
        self.published("Bearer " + self.token, names["native"], "3.0.0", depot=d)
        self.make_token(self.owner.bearer, ("read",), depot=d)
        self.assertEqual(tree_hashes(db, blobs), source, "the source must not change")
