"""
bench/corpus.py — what the scenarios of `make bench` read: packages published through the
real API (1 MiB and 10 MiB tarballs, a 50-package dependency graph; a pub package of 20 versions whose last
archive is 1 MiB, through pub's three-step publish; an npm package of 20 versions whose last
tarball is 1 MiB, through npm's publish document, also published to Verdaccio; a Hex package of 20 versions whose
last tarball is 1 MiB, through the Hex API; npm publish documents for a 50-package tree that
`npm install` fetches and for the small packages of the publish race) and a search corpus of 100,000
generated packages written straight into the store's SQLite file (publishing 100,000 packages
over HTTP one by one would take the whole bench's time; the rows are the same ones a publish
writes, and the search index is filled by the schema's own triggers).
"""

import gzip
import io
import json
import os
import random
import sqlite3
import tarfile
import time

WORDS = ("net http json yaml toml parse async stream cache crypto hash sign log trace metrics "
         "queue pool retry codec image audio video text regex glob path file disk sql kv graph "
         "tree heap sort search index vector matrix math rand time date zone uuid url mime mail "
         "smtp dns tcp udp tls cert auth token oauth jwt cli term color table form test mock "
         "bench fuzz lint fmt doc gen macro build pack ship deploy cloud edge wasm gpu simd").split()


def tarball(manifest, files):
    """A .tar.gz with depot.json and the given {path: bytes}; deterministic."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        entries = {"depot.json": json.dumps(manifest).encode()}
        entries.update(files)
        for path, data in sorted(entries.items()):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as g:
        g.write(raw.getvalue())
    return out.getvalue()


def publish(depot, token, manifest, files=None):
    from depot import Part, multipart_body  # the test harness, on sys.path
    body, ctype = multipart_body([Part("tarball", tarball(manifest, files or {}), filename="p.tar.gz",
                                       content_type="application/gzip")])
    r = depot.request("POST", "/api/v1/packages", body=body,
                      headers={"Authorization": "Bearer " + token, "Content-Type": ctype})
    if r.status != 201:
        raise RuntimeError("publish %s %s: %d %s" % (manifest["name"], manifest["version"], r.status,
                                                       r.body[:300]))


def seed_api(depot, token):
    """The 1 MiB package and the 50-package graph; returns the resolve request body."""
    rnd = random.Random(7)
    publish(depot, token, {"name": "big-blob", "version": "1.0.0", "description": "A 1 MiB tarball",
                           "license": "MIT"},
            {"data.bin": rnd.randbytes(1 << 20)})
    publish(depot, token, {"name": "huge-blob", "version": "1.0.0", "description": "A 10 MiB tarball",
                           "license": "MIT"},
            {"data.bin": random.Random(8).randbytes(10 << 20)})
    # pkg-0 .. pkg-49, three versions each; pkg-i depends on up to three of pkg-0 .. pkg-(i-1).
    for i in range(50):
        deps = {}
        if i:
            for j in rnd.sample(range(i), min(i, 3)):
                deps["pkg-%d" % j] = "^1.%d" % rnd.randint(0, 1)
        for minor in range(3):
            publish(depot, token, {"name": "pkg-%d" % i, "version": "1.%d.0" % minor,
                                   "description": "graph node %d" % i, "license": "MIT",
                                   "dependencies": deps})
    return json.dumps({"dependencies": {"pkg-49": "^1.0", "pkg-48": "^1.0", "pkg-47": "^1.0"}})


def search_names(n=100000):
    """The names and rows of the generated corpus, the same on every run."""
    rnd = random.Random(11)
    now = int(time.time())
    rows = []
    for i in range(n):
        a, b = rnd.choice(WORDS), rnd.choice(WORDS)
        name = "%s-%s-%d" % (a, b, i)
        desc = " ".join(rnd.choice(WORDS) for _ in range(8))
        kw = json.dumps(sorted({a, b}))
        rows.append((name, name.replace("-", "_"), desc, kw, rnd.randint(0, 100000), now - i))
    return rows


def seed_search(db_path, start=0, end=100000):
    """Packages start .. end-1 of the generated corpus, one version each, in one transaction
    (seed 0..1000 first and 1000..100000 later to have both sizes)."""
    rows = search_names(end)[start:]
    db = sqlite3.connect(db_path, timeout=30)
    user = db.execute("SELECT id FROM users ORDER BY id LIMIT 1").fetchone()[0]
    with db:
        db.executemany(
            "INSERT INTO packages (ecosystem, name, normalized_name, description, license, keywords,"
            " latest_version, downloads, created_at, updated_at)"
            " VALUES ('native', ?, ?, ?, 'MIT', ?, '1.0.0', ?, ?, ?)",
            [(r[0], r[1], r[2], r[3], r[4], r[5], r[5]) for r in rows])
        db.execute(
            "INSERT INTO versions (package_id, version, major, minor, patch, sha256, size, manifest,"
            " publisher_id, published_at)"
            " SELECT id, '1.0.0', 1, 0, 0, '" + "0" * 64 + "', 0, '{}', ?, created_at FROM packages"
            " WHERE ecosystem = 'native' AND id NOT IN (SELECT package_id FROM versions)", (user,))
        db.execute("INSERT INTO owners (package_id, user_id, added_at)"
                   " SELECT id, ?, created_at FROM packages WHERE id NOT IN (SELECT package_id FROM owners)",
                   (user,))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def pub_publish(depot, token, name, version, files):
    """`dart pub publish`'s three steps: versions/new, the multipart POST, the finalize GET."""
    import urllib.parse
    from depot import Part, multipart_body
    files = dict(files)
    files["pubspec.yaml"] = ("name: %s\nversion: %s\ndescription: a bench package\n"
                             "environment:\n  sdk: '>=3.0.0 <4.0.0'\n" % (name, version)).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    archive = gzip.compress(raw.getvalue(), mtime=0)
    auth = {"Authorization": "Bearer " + token, "Accept": "application/vnd.pub.v2+json"}
    r = depot.request("GET", "/pub/api/packages/versions/new", headers=auth)
    form = json.loads(r.body)
    parts = [Part(k, v) for k, v in form["fields"].items()]
    parts.append(Part("file", archive, filename="package.tar.gz"))
    body, ctype = multipart_body(parts)
    r = depot.request("POST", urllib.parse.urlsplit(form["url"]).path, body=body,
                      headers={"Authorization": auth["Authorization"], "Content-Type": ctype})
    loc = urllib.parse.urlsplit(r.headers["Location"])
    r = depot.request("GET", loc.path + "?" + loc.query, headers=auth)
    if r.status != 200:
        raise RuntimeError("pub publish %s %s: %d %s" % (name, version, r.status, r.body[:300]))


def seed_pub(depot, token):
    """bench_pub with 20 versions (1.0.0 .. 1.19.0); the last holds 1 MiB of random bytes."""
    rnd = random.Random(13)
    for minor in range(20):
        files = {"lib/bench_pub.dart": b"int answer() => %d;\n" % minor}
        if minor == 19:
            files["lib/data.bin"] = rnd.randbytes(1 << 20)
        pub_publish(depot, token, "bench_pub", "1.%d.0" % minor, files)


def npm_doc(name, version, deps=None, extra=None):
    """The publish document npm 11 sends for name@version (a small package; extra: more
    {path: bytes} in its tarball)."""
    import base64
    import hashlib
    pkg = {"name": name, "version": version, "description": "an npm bench package",
           "main": "index.js", "license": "MIT", "dependencies": deps or {}}
    files = {"package.json": json.dumps(pkg).encode(),
             "index.js": b"module.exports = %s;\n" % json.dumps(name + "@" + version).encode()}
    files.update(extra or {})
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo("package/" + path)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    tgz = gzip.compress(raw.getvalue(), mtime=0)
    # npm names the tarball under its configured registry; both registries serve their own URL
    man = dict(pkg, _id="%s@%s" % (name, version), readme="# %s\n" % name,
               dist={"tarball": "http://localhost:4873/%s/-/%s-%s.tgz" % (name, name, version),
                     "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode(),
                     "shasum": hashlib.sha1(tgz).hexdigest()})
    return {"_id": name, "name": name, "dist-tags": {"latest": version},
            "versions": {version: man}, "access": None,
            "_attachments": {"%s-%s.tgz" % (name, version): {
                "content_type": "application/octet-stream",
                "data": base64.b64encode(tgz).decode(), "length": len(tgz)}}}


def npm_docs(name="bench-npm", versions=20):
    """npm publish documents for name 1.0.0 .. 1.<versions-1>.0 as (version, document); the last
    tarball holds 1 MiB of random bytes. The same documents seed depot and Verdaccio."""
    rnd = random.Random(17)
    docs = []
    for minor in range(versions):
        version = "1.%d.0" % minor
        extra = {"data.bin": rnd.randbytes(1 << 20)} if minor == versions - 1 else None
        docs.append((version, npm_doc(name, version, {"left-pad": "^1.3.0"}, extra)))
    return docs


def npm_tree_docs(n=50, prefix="bench-tree"):
    """n packages forming one tree: <prefix>-i depends on <prefix>-(2i+1) and <prefix>-(2i+2), so
    installing <prefix>-0 installs all n. Returns [(version, document)]."""
    docs = []
    for i in range(n):
        deps = {"%s-%d" % (prefix, j): "^1.0.0" for j in (2 * i + 1, 2 * i + 2) if j < n}
        docs.append(("1.0.0", npm_doc("%s-%d" % (prefix, i), "1.0.0", deps)))
    return docs


def seed_npm(depot, token, docs=None):
    """bench-npm with 20 versions (or the given documents) through the npm front's publish."""
    for version, doc in docs or npm_docs():
        r = depot.request("PUT", "/npm/" + doc["name"], json=doc,
                          headers={"Authorization": "Bearer " + token})
        if r.status != 201:
            raise RuntimeError("npm publish %s %s: %d %s" % (doc["name"], version, r.status, r.body[:300]))


def seed_hex(depot, token):
    """bench_hex with 20 versions (1.0.0 .. 1.19.0) through the Hex API's publish, as mix sends it;
    the last tarball holds 1 MiB of random bytes. The Hex v3 tarballs come from the Hex tests'
    builder (tests/api/hex/hextest.py), which builds them as hex_core does."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "api"))
    from hex.hextest import hex_tarball
    rnd = random.Random(19)
    for minor in range(20):
        files = {"src/bench_hex.erl": "-module(bench_hex).\n-export([answer/0]).\nanswer() -> %d.\n" % minor,
                 "rebar.config": "{erl_opts, [debug_info]}.\n"}
        if minor == 19:
            files["priv/data.bin"] = rnd.randbytes(1 << 20)
        t = hex_tarball("bench_hex", "1.%d.0" % minor, files=files)
        r = depot.request("POST", "/hex/api/publish?replace=false", body=t,
                          headers={"Authorization": token, "Content-Type": "application/octet-stream",
                                   "Accept": "application/vnd.hex+erlang"})
        if r.status != 201:
            raise RuntimeError("hex publish bench_hex 1.%d.0: %d %s" % (minor, r.status, r.body[:300]))
