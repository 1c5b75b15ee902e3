"""Hostile archives against every front that unpacks one: native publish and docs, Hex publish
(its contents.tar.gz) and docs, npm publish, and pub's publish (refused at finalize). Each entry
kind the issue names — `..`, absolute paths, links out, devices, FIFOs, duplicate and case-
colliding names, names that are not UTF-8, gzip that is not, truncated gzip, compression bombs,
too many entries, nothing at all — is its own case: a 4xx in the front's own error shape, the
server still answering, and nothing stored."""

import functools
import hashlib
import io
import json
import os
import tarfile
import zlib

from apitest import bearer
from hex.hextest import hex_tarball
from native.nativetest import manifest
from npm.npmtest import publish_doc
from pub.dartpub import pubspec_yaml
from security.sectest import (DOCS, HEX_PKG, NATIVE_PKG, NPM_PKG, PUB_PKG, VERSION, Case,
                              HostileTestCase, add_cases, tar_entries)

F = "file"


@functools.lru_cache(maxsize=None)
def bomb(name, expanded=24 << 20):
    """A gzip tar of one file of `expanded` zero bytes (a ratio near 1000:1). Made once per name:
    it takes the better part of a second."""
    ti = tarfile.TarInfo(name)
    ti.size = expanded
    ti.mtime = 1700000000
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [co.compress(ti.tobuf(format=tarfile.USTAR_FORMAT))]
    chunk = bytes(1 << 20)
    for _ in range(expanded >> 20):
        out.append(co.compress(chunk))
    out.append(co.compress(bytes(1024)))
    out.append(co.flush())
    return b"".join(out)


# What a front needs beside the hostile entries (p: the folder npm packs into).
def base_entries(front):
    if front == "npm":
        pj = {"name": NPM_PKG, "version": "2.0.0", "description": "x", "license": "MIT"}
        return "package/", [("package/package.json", F, json.dumps(pj), None),
                            ("package/index.js", F, "1", None)]
    if front == "pub":
        return "", [("pubspec.yaml", F, pubspec_yaml(PUB_PKG, "2.0.0"), None),
                    ("lib/a.dart", F, "void main() {}", None)]
    if front in ("native_docs", "hex_docs"):
        return "", [("index.html", F, "<p>docs</p>", None)]
    if front == "hex":
        return "", [("src/a.erl", F, "-module(a).", None)]
    return "", [("src/a.txt", F, "a", None)]


def kinds(front):
    """name -> a function that makes the archive's bytes. The bytes are made when a test sends
    them, not when the module is imported: the runner imports every module to list its tests,
    and the bombs and the 10,001 entries take seconds to make."""
    p, base = base_entries(front)
    out = {
        "dotdot": base + [("../evil.txt", F, "x", None)],
        "dotdot_inside": base + [(p + "a/../../evil.txt", F, "x", None)],
        "absolute": base + [("/abs/evil.txt", F, "x", None)],
        "symlink_absolute": base + [(p + "link", "symlink", None, "/etc/passwd")],
        "symlink_up": base + [(p + "link", "symlink", None, "../../../etc/passwd")],
        "hardlink_out": base + [(p + "hl", "hardlink", None, "/etc/passwd")],
        "chardev": base + [(p + "tty", "chardev", None, None)],
        "blockdev": base + [(p + "disk", "blockdev", None, None)],
        "fifo": base + [(p + "pipe", "fifo", None, None)],
        "duplicate": base + [(p + "dup.txt", F, "a", None), (p + "dup.txt", F, "b", None)],
        "invalid_utf8_name": base + [(p + "bad\udcff\udcfe.txt", F, "x", None)],
    }
    if front == "pub":
        # Only pub refuses two paths that differ in case (its client unpacks on any file
        # system); npm, Hex and depot's own client take what their packers write, and docs
        # are served by URL, where case counts.
        out["case_collision"] = base + [("lib/Dup.dart", F, "a", None),
                                        ("lib/dup.dart", F, "b", None)]
    archives = {k: functools.partial(tar_entries, v) for k, v in out.items()}
    archives["not_gzip"] = lambda: os.urandom(2048)
    archives["gzip_of_garbage"] = lambda: __import__("gzip").compress(os.urandom(4096), mtime=0)

    def truncated():
        good = tar_entries(base)
        return good[:len(good) // 2]
    archives["truncated"] = truncated
    archives["empty"] = functools.partial(tar_entries, [])
    archives["bomb"] = functools.partial(bomb, p + "zeros.bin")
    if front == "native_docs":
        archives["too_many_entries"] = functools.partial(
            tar_entries, base + [("f/%d.txt" % i, F, "", None) for i in range(10001)])
    return archives


# ---- how each front takes an archive ----------------------------------------------------------

def native_publish(t, data):
    return t.depot.publish(data, metadata=manifest(NATIVE_PKG, "2.0.0"), auth=bearer(t.tok_full))


def native_docs(t, data):
    return t.depot.request("POST", "/api/v1/packages/%s/versions/%s/docs" % (NATIVE_PKG, VERSION),
                           body=data, headers={"Content-Type": "application/gzip"},
                           auth=bearer(t.tok_full))


def hex_with_contents(contents):
    """A valid Hex tarball of sec_hex 2.0.0 whose contents.tar.gz is `contents`."""
    good = tarfile.open(fileobj=io.BytesIO(hex_tarball(HEX_PKG, "2.0.0")))
    parts = {m.name: good.extractfile(m).read() for m in good.getmembers()}
    parts["contents.tar.gz"] = contents
    parts["CHECKSUM"] = hashlib.sha256(parts["VERSION"] + parts["metadata.config"] +
                                       contents).hexdigest().upper().encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as out:
        for n in ("VERSION", "CHECKSUM", "metadata.config", "contents.tar.gz"):
            ti = tarfile.TarInfo(n)
            ti.size = len(parts[n])
            out.addfile(ti, io.BytesIO(parts[n]))
    return raw.getvalue()


def hex_publish(t, data):
    return t.depot.request("POST", "/hex/api/publish?replace=false", body=hex_with_contents(data),
                           headers={"Authorization": t.tok_full,
                                    "Content-Type": "application/octet-stream",
                                    "Accept": "application/vnd.hex+erlang"})


def hex_docs(t, data):
    return t.depot.request("POST", "/hex/api/packages/%s/releases/%s/docs" % (HEX_PKG, VERSION),
                           body=data, headers={"Authorization": t.tok_full,
                                               "Content-Type": "application/octet-stream",
                                               "Accept": "application/vnd.hex+erlang"})


def npm_publish(t, data):
    return t.depot.request("PUT", "/npm/" + NPM_PKG, json=publish_doc(NPM_PKG, "2.0.0", data),
                           auth=bearer(t.tok_full))


def pub_publish(t, data):
    """The three steps; the answer that counts is finalize's (pub's client shows only that)."""
    d, auth = t.depot, bearer(t.tok_full)
    r = d.get("/pub/api/packages/versions/new", auth=auth)
    if r.status != 200:
        return r
    upload = r.json()["fields"]["upload_id"]
    r = d.request("POST", "/pub/api/packages/versions/newUpload?upload_id=" + upload, body=data,
                  auth=auth, headers={"Content-Type": "application/octet-stream"})
    if r.status != 303:
        return r
    return d.get("/pub/api/packages/versions/newUploadFinish?upload_id=" + upload, auth=auth)


SENDERS = {"native": native_publish, "native_docs": native_docs, "hex": hex_publish,
           "hex_docs": hex_docs, "npm": npm_publish, "pub": pub_publish}
# What each front answers a refused archive: pub's finalize says 400 for every reason (the client
# prints the message only for a 4xx there); the others 422, or 400 for bytes that are no
# archive at all (and npm's 400 for a tarball its document's checksums do not describe is not
# reached: the document here describes these bytes).
WANT = {"pub": (400,)}


def cases():
    out = []
    for front, send in SENDERS.items():
        for kind, make in kinds(front).items():
            out.append(Case(front, "archive_" + kind,
                            lambda t, s=send, m=make: s(t, m()), WANT.get(front, (400, 422))))
    return out


class HostileArchives(HostileTestCase):
    pass


COUNT = add_cases(HostileArchives, cases())
