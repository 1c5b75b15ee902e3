#!/usr/bin/env python3
"""
faults.py — fault injection: the disk filling up and failing under the blob store and under the
database, and the database held locked past the server's busy timeout. For each fault, a publish
in every ecosystem (native, Hex, npm, pub) must

  - be answered 507 (no space left: the client can do nothing but wait for an operator, and 507
    Insufficient Storage says exactly that) or 503 (an I/O error, a read-only file system, a busy
    store: unavailable, try again), in its front's error shape with a message;
  - leave nothing behind: the version in none of its front's documents, no temp file;
  - succeed, with the very same bytes, once the fault is gone.

The database's folder is only filled, not remounted read-only: a running server holds the
database open for writing, which keeps a file system from being remounted read-only (its I/O
errors map to 503 like the blob store's: src/store/sqlite.c).

The faults are real: a small tmpfs is mounted (we run as root) for the blob folder or the data
folder, then filled with a file (disk full) or remounted read-only (the file system refusing
writes, as it does after an I/O error); the lock is taken with python's sqlite3 and
BEGIN IMMEDIATE. Without mount permission the tmpfs cases are skipped and said so.

    python3 tests/soak/faults.py
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402
from hex.hextest import etf_decode  # noqa: E402

BUSY_HOLD = 7.0  # seconds the test holds the write lock; the server's busy timeout is 5 s


class Tmpfs:
    def __init__(self, size):
        self.dir = tempfile.mkdtemp(prefix="depot-faults-")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", self.dir],
                           capture_output=True, text=True)
        self.mounted = p.returncode == 0
        self.why = p.stderr.strip()
        self.filler = os.path.join(self.dir, "filler")

    def fill(self):
        """Fills the file system to the last byte."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 65536, 4096, 1):
                try:
                    while os.write(fd, b"\0" * size) > 0:
                        pass
                except OSError:
                    pass
        finally:
            os.close(fd)

    def unfill(self):
        os.unlink(self.filler)

    def remount(self, mode):
        subprocess.run(["mount", "-o", "remount,%s" % mode, self.dir], check=True)

    def close(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.dir], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def error_message(eco, headers, body):
    """The message of eco's error answer, or None when it is not in eco's shape."""
    try:
        if eco == "hex" and "erlang" in headers.get("content-type", ""):
            t = etf_decode(body)
        else:
            t = json.loads(body)
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(t, dict):
        return None
    if eco == "hex" and isinstance(t.get("message"), str):
        return t["message"]
    if eco == "npm" and isinstance(t.get("error"), str):
        return t["error"]
    err = t.get("error")
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return err["message"]
    return None


class Faults:
    def __init__(self):
        self.problems = []
        self.lines = []
        self.n = 0

    def say(self, line):
        self.lines.append(line)
        print(line, flush=True)

    def publish_all(self, reg, label, want, pad=32 * 1024):
        """Every ecosystem publishes a new version during the fault: each answer must be one of
        want, with a message. Returns what was tried, to be published again after."""
        tried = []
        self.n += 1
        for eco in soak.ECOSYSTEMS:
            name = soak.names_for(eco, "f%d" % self.n)
            wire, tb = soak.build(eco, name, "1.0.0", pad)
            st, h, body = self.publish_raw(reg, eco, name, wire)
            msg = error_message(eco, h, body)
            ok = st in want and msg
            self.say("  %-26s %-6s -> %d %s" % (label, eco, st, msg if msg else body[:120]))
            if not ok:
                self.problems.append("%s, %s: want %s with a message, got %d %r"
                                     % (label, eco, want, st, body[:300]))
            tried.append((eco, name, wire, tb))
        return tried

    @staticmethod
    def publish_raw(reg, eco, name, wire, timeout=30.0):
        """reg.publish, with the answer's headers too (the error shape depends on them)."""
        seen = {}
        real = reg.call

        def call(*a, **kw):
            st, h, b = real(*a, **kw)
            seen["h"] = h
            return st, h, b

        reg.call = call
        try:
            st, body = reg.publish(eco, name, "1.0.0", wire, timeout)
        finally:
            reg.call = real
        return st, seen.get("h", {}), body

    def after(self, reg, label, tried, tmp_dirs):
        """Nothing of the refused publishes is visible, no temp file is left; once the fault is
        gone the same bytes publish."""
        for d in tmp_dirs:
            left = [f for f in os.listdir(d) if not f.startswith(".")] if os.path.isdir(d) else []
            if left:
                self.problems.append("%s: temp files left in %s: %s" % (label, d, left))
        for eco, name, _, tb in tried:
            state = reg.state(eco, name, "1.0.0", tb)
            if state != "absent":
                self.problems.append("%s, %s: the refused publish is %s" % (label, eco, state))

    def recover(self, reg, label, tried):
        for eco, name, wire, tb in tried:
            st, body = reg.publish(eco, name, "1.0.0", wire)
            state = reg.state(eco, name, "1.0.0", tb)
            if not (200 <= st < 300) or state != "present":
                self.problems.append("%s, %s: after the fault cleared: %d %r, %s"
                                     % (label, eco, st, body[:300], state))
        self.say("  %-26s recovered: %s" % (label, "every ecosystem published the same bytes"
                                             if not any(p.startswith(label) for p in self.problems)
                                             else "NO"))

    # ---- the faults --------------------------------------------------------------------------

    def blob_folder(self):
        fs = Tmpfs("4m")
        if not fs.mounted:
            self.say("blob folder faults: SKIPPED (cannot mount a tmpfs: %s)" % fs.why)
            return
        reg = soak.Registry(extra_args=["--blobs", "file:" + fs.dir])
        try:
            reg.start()
            reg.setup_account()
            tmp = os.path.join(fs.dir, "tmp")
            self.say("blob folder on a 4 MiB tmpfs:")
            fs.fill()
            tried = self.publish_all(reg, "blob folder full", (507,))
            self.after(reg, "blob folder full", tried, [tmp])
            fs.unfill()
            self.recover(reg, "blob folder full", tried)

            fs.remount("ro")
            tried = self.publish_all(reg, "blob folder read-only", (503,))
            self.after(reg, "blob folder read-only", tried, [tmp])
            fs.remount("rw")
            self.recover(reg, "blob folder read-only", tried)
            self.check_store(reg, "blob folder")
        finally:
            reg.depot.close(keep=bool(self.problems))
            fs.close()

    def data_folder(self):
        fs = Tmpfs("8m")
        if not fs.mounted:
            self.say("database faults: SKIPPED (cannot mount a tmpfs: %s)" % fs.why)
            return
        blobs = tempfile.mkdtemp(prefix="depot-faults-blobs-")
        reg = soak.Registry(extra_args=["--blobs", "file:" + blobs], data_dir=fs.dir)
        try:
            reg.start()
            reg.setup_account()
            self.say("data folder (the database) on an 8 MiB tmpfs, blobs elsewhere:")
            fs.fill()
            tried = self.publish_all(reg, "database disk full", (507,))
            self.after(reg, "database disk full", tried, [os.path.join(blobs, "tmp")])
            fs.unfill()
            self.recover(reg, "database disk full", tried)
            self.check_store(reg, "data folder")
        finally:
            reg.depot.close(keep=bool(self.problems))
            fs.close()
            shutil.rmtree(blobs, ignore_errors=True)

    def busy(self):
        reg = soak.Registry()
        try:
            reg.start()
            reg.setup_account()
            self.say("database write-locked by another process (busy timeout 5s) until every "
                     "publish is answered, at least %.0fs:" % BUSY_HOLD)
            db = sqlite3.connect(os.path.join(reg.depot.data_dir, "depot.db"),
                                 isolation_level=None, timeout=30)
            db.execute("BEGIN IMMEDIATE")
            t0 = time.monotonic()
            results = {}

            def one(eco):
                name = soak.names_for(eco, "busy")
                wire, tb = soak.build(eco, name, "1.0.0", 4096)
                # Writers wait their turn for the lock, each up to the busy timeout (some steps
                # twice), on a pool of two workers: four publishes may take 40 s to be refused.
                st, h, body = self.publish_raw(reg, eco, name, wire, timeout=BUSY_HOLD + 55)
                results[eco] = (st, h, body, name, wire, tb, time.monotonic() - t0)

            threads = [threading.Thread(target=one, args=(eco,)) for eco in soak.ECOSYSTEMS]
            for t in threads:
                t.start()
            for t in threads:
                t.join(BUSY_HOLD + 60)
            left = BUSY_HOLD - (time.monotonic() - t0)
            if left > 0:
                time.sleep(left)
            db.execute("ROLLBACK")
            db.close()
            tried = []
            for eco in soak.ECOSYSTEMS:
                if eco not in results:
                    self.problems.append("busy, %s: no answer within %.0fs" % (eco, BUSY_HOLD + 60))
                    continue
                st, h, body, name, wire, tb, secs = results[eco]
                msg = error_message(eco, h, body)
                self.say("  %-26s %-6s -> %d after %.1fs %s" % ("database busy", eco, st, secs,
                                                                msg or body[:120]))
                if st != 503 or not msg:
                    self.problems.append("busy, %s: want 503 with a message, got %d %r"
                                         % (eco, st, body[:300]))
                tried.append((eco, name, wire, tb))
            self.after(reg, "database busy", tried, [os.path.join(reg.depot.data_dir, "blobs", "tmp")])
            self.recover(reg, "database busy", tried)
            self.check_store(reg, "busy")
        finally:
            reg.depot.close(keep=bool(self.problems))

    def check_store(self, reg, label):
        integrity = reg.integrity_check()
        if integrity != "ok":
            self.problems.append("%s: integrity_check: %s" % (label, integrity))
        ok, out = reg.fsck()
        if not ok:
            self.problems.append("%s: depot fsck:\n%s" % (label, out))
        self.say("  %-26s integrity %s, fsck %s" % ("afterwards", integrity,
                                                    "clean" if ok else "PROBLEMS"))


def main():
    f = Faults()
    t0 = time.monotonic()
    f.blob_folder()
    f.data_folder()
    f.busy()
    for p in f.problems:
        print("PROBLEM: " + p)
    print("faults: %s in %.0fs" % ("ok" if not f.problems else "FAILED (%d problems)"
                                   % len(f.problems), time.monotonic() - t0))
    return 1 if f.problems else 0


if __name__ == "__main__":
    sys.exit(main())
