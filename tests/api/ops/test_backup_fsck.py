"""depot fsck, backup and restore against a live server's data (docs/architecture.md, issue 10's
operations): a backup taken while the server runs restores into a registry that serves the same
packages, and fsck finds a damaged blob."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "native"))
from nativetest import NativeTestCase, sha256_hex  # noqa: E402
from depot import Depot  # noqa: E402


class BackupRestoreFsck(NativeTestCase):

    def run_cli(self, *args, data=None):
        cmd = [self.depot.binary] + list(args) + ["--data", data or self.depot.data_dir]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def test_backup_while_serving_then_restore_serves_the_same(self):
        user = self.new_user()
        name = self.pkgname("bk")
        _, tb1 = self.published(user.bearer, name, "1.0.0")
        _, tb2 = self.published(user.bearer, name, "1.1.0")
        tmp = tempfile.mkdtemp(prefix="depot-backup-")
        try:
            bdir = os.path.join(tmp, "backup")
            p = self.run_cli("backup", bdir)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("2 blobs copied, 0 missing", p.stdout)
            # More writes after the backup do not reach it.
            self.published(user.bearer, name, "1.2.0")
            rdir = os.path.join(tmp, "restored")
            p = self.run_cli("restore", bdir, data=rdir)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            p = self.run_cli("fsck", data=rdir)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("fsck: clean", p.stdout)
            # Restoring over an existing store is refused.
            p = self.run_cli("restore", bdir, data=rdir)
            self.assertNotEqual(p.returncode, 0)
            # A server on the restored data serves the two backed-up versions, byte for byte,
            # and the session secret came along (the user's JWT still works).
            d = Depot(extra_args=["--argon2-ops", "1", "--argon2-mem", "8192"], defaults=False)
            shutil.rmtree(d.data_dir, ignore_errors=True)
            shutil.copytree(rdir, d.data_dir)
            d.start()
            try:
                doc = self.assertJSON(d.get("/api/v1/packages/" + name))
                self.assertEqual([v["version"] for v in doc["versions"]], ["1.1.0", "1.0.0"])
                for v, tb in (("1.0.0", tb1), ("1.1.0", tb2)):
                    r = d.get("/api/v1/packages/%s/versions/%s/download" % (name, v))
                    self.assertEqual(r.status, 200)
                    self.assertEqual(sha256_hex(r.body), sha256_hex(tb))
                self.assertJSON(d.get("/api/v1/me", auth=user.bearer))
            finally:
                d.stop()
                d.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_fsck_finds_a_damaged_blob_and_repair_cleans_temp_files(self):
        user = self.new_user()
        name = self.pkgname("fs")
        doc, _ = self.published(user.bearer, name, "1.0.0")
        p = self.run_cli("fsck")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        blob = glob.glob(os.path.join(self.depot.data_dir, "blobs", "*", "*", doc["sha256"]))
        self.assertEqual(len(blob), 1)
        os.chmod(blob[0], 0o644)
        with open(blob[0], "ab") as f:
            f.write(b"tampered")
        p = self.run_cli("fsck")
        self.assertEqual(p.returncode, 1)
        self.assertIn("BAD  version native/%s@1.0.0" % name, p.stdout)
        # Put it back as it was, then leave an old temp file behind.
        with open(blob[0], "rb+") as f:
            f.truncate(os.path.getsize(blob[0]) - len(b"tampered"))
        stale = os.path.join(self.depot.data_dir, "blobs", "tmp", "upload-stale")
        with open(stale, "w") as f:
            f.write("x")
        os.utime(stale, (1, 1))
        p = self.run_cli("fsck")
        self.assertEqual(p.returncode, 1, p.stdout)
        p = self.run_cli("fsck", "--repair")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertFalse(os.path.exists(stale))
        self.assertIn("fsck: clean", self.run_cli("fsck").stdout)
