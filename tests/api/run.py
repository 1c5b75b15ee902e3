#!/usr/bin/env python3
"""
run.py — runs depot's black-box API tests.

    DEPOT_BIN=build/depot python3 tests/api/run.py [-j N] [-v] [--store postgres] [--blobs s3]
                                                   [--redis] [PATTERN...]

Finds every tests/api/**/test_*.py and runs it in worker processes, API_JOBS or -j at a time:
the classes of a module that share its server (apitest.py, server_group) in one worker, each
class with a server of its own in a worker of its own. Workers start their own servers, so they
run side by side; the longest go first (the seconds each took last time are kept in
api-times.json beside the binary). Prints one line per test, the details of each failure (with
the tail of that server's stderr), and a last line `api: N passed, N failed[, N skipped]`.
Exits 1 when any test failed. -v adds each worker's stderr and seconds.
PATTERNs select tests whose id (core.test_tokens.Tokens.test_create) contains one of them.

--store postgres (or DEPOT_TEST_STORE=postgres) runs the same suite with every server on
PostgreSQL: one throwaway cluster for the run (tests/harness/pg.py: initdb in a temp dir, trust
auth, a free port on 127.0.0.1, removed at the end) and a fresh database per server in it. Tests
that only make sense on SQLite (SQLITE_ONLY below) are reported as skipped, with the reason.

--blobs s3 starts one throwaway s3rver (tests/harness/s3.py) and gives every server a key prefix
of its own in its bucket; --redis starts one throwaway redis-server (tests/harness/redis.py) and
gives every server a database of its own in it (tests/harness/depot.py, "Blobs and rate limits").
`make api-pg` runs the suite with all three: the deployment of several servers, on one machine.
Tests that look into the blob folder itself (FOLDER_ONLY) are skipped with --blobs s3.
"""

import argparse
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
MARK = "@@apitest@@ "

# Tests that exercise what only the SQLite store has, skipped with --store postgres.
SQLITE_ONLY = {
    "ops.test_backup_fsck.BackupRestoreFsck.test_backup_while_serving_then_restore_serves_the_same":
        "`depot restore` rebuilds a SQLite data folder; a PostgreSQL store moves with "
        "migrate-store (its backup, a SQLite file, is tested in tests/unit/store/test_postgres.c)",
}

# Tests that read or damage files in the blob folder itself, skipped with --blobs s3 (S3 blobs
# have their own tests in tests/api/scale/test_s3_redis.py and tests/unit/blob/test_s3.c).
FOLDER_ONLY = {
    "ops.test_backup_fsck.BackupRestoreFsck.test_fsck_finds_a_damaged_blob_and_repair_cleans_temp_files":
        "it damages a blob file in the folder; fsck over S3 reads through the same blob interface",
}


def find_modules():
    mods = []
    for root, dirs, files in os.walk(HERE):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        for f in sorted(files):
            if f.startswith("test_") and f.endswith(".py"):
                rel = os.path.relpath(os.path.join(root, f), HERE)[:-3]
                mods.append(rel.replace(os.sep, "."))
    return mods


def test_classes(modname):
    """[(class name, [test method names], server group)] of one module; the group is the key
    of the module's server the class shares (None: a server of its own, or none)."""
    mod = importlib.import_module(modname)
    out = []
    loader = unittest.TestLoader()
    for name in sorted(dir(mod)):
        obj = getattr(mod, name)
        if (isinstance(obj, type) and issubclass(obj, unittest.TestCase)
                and obj.__module__ == modname):
            names = loader.getTestCaseNames(obj)
            if names:
                group = obj.server_group() if hasattr(obj, "server_group") else None
                out.append((name, list(names), group))
    return out


def module_jobs(modname, classes):
    """The workers of one module: [(module, [(class, tests), ...])], one for the classes of each
    shared server and one for each class of its own."""
    shared, jobs = {}, []
    for cname, tests, group in classes:
        if group is None:
            jobs.append((modname, [(cname, tests)]))
        elif group in shared:
            shared[group][1].append((cname, tests))
        else:
            shared[group] = (modname, [(cname, tests)])
            jobs.append(shared[group])
    return jobs


def job_name(job):
    return "%s.%s" % (job[0], "+".join(c for c, _ in job[1]))


# ---------------------------------------------------------------------------------------------
# worker: runs the classes of one module and reports each test as a JSON line on stdout


class _Result(unittest.TestResult):
    def __init__(self, out):
        super().__init__()
        self.out = out
        self.t0 = {}
        self.done = {}

    def _id(self, test):
        return test.id() if isinstance(test, unittest.TestCase) else None

    def startTest(self, test):
        super().startTest(test)
        self.t0[test.id()] = time.monotonic()

    def _emit(self, test, status, detail=""):
        tid = self._id(test)
        if tid is None:  # an error in setUpClass/tearDownClass/module setup
            self.out({"class_error": str(test), "detail": detail})
            return
        prev = self.done.get(tid)
        if prev and prev["status"] != "ok":
            # a second problem for the same test (e.g. tearDown after a failure): append
            prev["detail"] += "\n" + detail
            return
        rec = {"id": tid, "status": status, "detail": detail,
               "secs": round(time.monotonic() - self.t0.get(tid, time.monotonic()), 2)}
        self.done[tid] = rec

    def _server_tail(self, test):
        d = getattr(test, "depot", None)
        if d is None:
            return ""
        try:
            return "\n--- last lines of the server's stderr ---\n" + d.stderr_tail(30)
        except Exception:  # noqa: BLE001
            return ""

    def addSuccess(self, test):
        super().addSuccess(test)
        self._emit(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._emit(test, "FAIL", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._emit(test, "ERROR", self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "FAIL" if issubclass(err[0], test.failureException) else "ERROR"
            detail = "%s\n%s" % (subtest.description if hasattr(subtest, "description")
                                 else subtest, self._exc_info_to_string(err, test))
            tid = test.id()
            prev = self.done.get(tid)
            if prev:
                prev["detail"] += "\n" + detail
            else:
                self.done[tid] = {"id": tid, "status": kind, "detail": detail,
                                  "secs": round(time.monotonic() - self.t0.get(tid, 0), 2)}

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._emit(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._emit(test, "ok")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._emit(test, "FAIL", "unexpected success")

    def stopTest(self, test):
        super().stopTest(test)
        tid = self._id(test)
        if tid in self.done:
            rec = self.done[tid]
            rec["secs"] = round(time.monotonic() - self.t0.get(tid, time.monotonic()), 2)
            if rec["status"] in ("FAIL", "ERROR"):
                rec["detail"] += self._server_tail(test)
            self.out(rec)


def worker(modname):
    """Runs the tests of one module that the parent writes on stdin as JSON, [[class, [test,
    ...]], ...], in this process, then stops the servers they shared."""
    sys.path.insert(0, HERE)
    lock = threading.Lock()

    def out(rec):
        with lock:
            sys.stdout.write(MARK + json.dumps(rec) + "\n")
            sys.stdout.flush()

    try:
        classes = json.load(sys.stdin)
        mod = importlib.import_module(modname)
        suite = unittest.TestSuite()
        for clsname, tests in classes:
            cls = getattr(mod, clsname)
            suite.addTests(cls(n) for n in tests)
    except Exception:  # noqa: BLE001
        out({"class_error": "%s (import)" % modname,
             "detail": traceback.format_exc()})
        return 1
    result = _Result(out)
    suite.run(result)
    # stopTest emits after tearDown, so tearDown problems are already folded in
    try:
        import apitest
        apitest.close_shared_servers()
    except Exception:  # noqa: BLE001 (a sanitizer report at a shared server's exit)
        out({"class_error": "tearDownModule (%s)" % modname, "detail": traceback.format_exc()})
    return 0


# ---------------------------------------------------------------------------------------------
# parent


_workers = set()
_workers_lock = threading.Lock()


def kill_workers():
    with _workers_lock:
        for p in list(_workers):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _on_term(signum, frame):
    raise KeyboardInterrupt


def run_job(job, timeout, verbose):
    modname, classes = job
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", modname]
    timeout *= len(classes)  # the limit is per class
    t0 = time.monotonic()
    # The worker leads its own process group, so a worker that times out is killed together
    # with every server it started.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.PIPE, start_new_session=True)
    with _workers_lock:
        _workers.add(p)
    try:
        stdout, stderr = p.communicate(json.dumps(classes), timeout=timeout)
        rc, timed_out = p.returncode, False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        stdout, stderr = p.communicate()
        rc, timed_out = None, True
    finally:
        with _workers_lock:
            _workers.discard(p)
    recs, class_errors = {}, []
    for ln in stdout.splitlines():
        if ln.startswith(MARK):
            rec = json.loads(ln[len(MARK):])
            if "class_error" in rec:
                class_errors.append(rec)
            else:
                recs[rec["id"]] = rec
    results = []
    for tid in ["%s.%s.%s" % (modname, c, t) for c, tests in classes for t in tests]:
        if tid in recs:
            results.append(recs[tid])
            continue
        if class_errors:
            why = "class setup failed:\n" + "\n".join(
                "%s\n%s" % (e["class_error"], e["detail"]) for e in class_errors)
        elif timed_out:
            why = "the worker did not finish within %ds" % timeout
        else:
            why = "the worker exited %s without reporting this test" % rc
        results.append({"id": tid, "status": "ERROR", "detail": why + (
            "\n--- worker stderr ---\n" + stderr[-4000:] if stderr.strip() else ""), "secs": 0})
    # errors in tearDownClass or at a shared server's close after the tests passed:
    # "tearDownClass (module.Class)" is reported as module.Class.tearDownClass
    for e in class_errors:
        if all(r["id"] in recs for r in results) and "tearDown" in e["class_error"]:
            what, _, where = e["class_error"].partition(" (")
            results.append({"id": "%s.%s" % (where.rstrip(")") or modname, what),
                            "status": "ERROR", "detail": e["detail"], "secs": 0})
    return results, time.monotonic() - t0, stderr if verbose else ""


def times_file(backends):
    """Where each worker's seconds are kept between runs: beside the binary under test, one
    file for each set of backends (api-times.json, api-times-postgres+s3+redis.json)."""
    return os.path.join(os.path.dirname(os.environ.get("DEPOT_BIN") or
                                        os.path.join(HERE, "..", "..", "build", "depot")),
                        "api-times%s.json" % ("-" + "+".join(backends) if backends else ""))


def load_times(backends):
    try:
        with open(times_file(backends)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_times(times, backends):
    path = times_file(backends)
    try:
        with open(path + ".%d" % os.getpid(), "w") as f:
            json.dump(times, f, indent=0, sort_keys=True)
        os.replace(path + ".%d" % os.getpid(), path)
    except OSError:
        pass  # only the order of the next run depends on it


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-j", "--jobs", type=int,
                    default=int(os.environ.get("API_JOBS", "0")) or 8,
                    help="classes run at once (default $API_JOBS or 8)")
    ap.add_argument("-v", "--verbose", action="store_true", help="show the workers' stderr")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("API_CLASS_TIMEOUT", 180)),
                    help="seconds one class may take")
    ap.add_argument("--store", choices=("sqlite", "postgres"),
                    default=os.environ.get("DEPOT_TEST_STORE", "sqlite") or "sqlite",
                    help="the store every server runs on (default $DEPOT_TEST_STORE or sqlite)")
    ap.add_argument("--blobs", choices=("folder", "s3"),
                    default=os.environ.get("DEPOT_TEST_BLOBS", "folder") or "folder",
                    help="the blob store of every server (default $DEPOT_TEST_BLOBS or folder)")
    ap.add_argument("--redis", action="store_true",
                    default=bool(os.environ.get("DEPOT_TEST_WITH_REDIS")),
                    help="rate limits of every server in a throwaway Redis")
    ap.add_argument("--worker", metavar="MODULE", help=argparse.SUPPRESS)
    ap.add_argument("patterns", nargs="*")
    args = ap.parse_args()

    if args.worker:
        sys.exit(worker(args.worker))

    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(HERE, "..", "harness"))
    services = []
    keydir = None
    if not os.environ.get("DEPOT_TEST_HEX_KEY_CACHE"):
        # The Hex key the run's first server generates, given to the later ones
        # (tests/harness/depot.py): RSA key generation is most of a server's start.
        keydir = tempfile.mkdtemp(prefix="depot-test-hexkey-")
        os.environ["DEPOT_TEST_HEX_KEY_CACHE"] = os.path.join(keydir, "hex_repo_key.pem")
    try:
        cluster = start_services(args, services)
        run_suite(args, cluster)
    finally:
        for s in reversed(services):
            s.close()
        if keydir:
            shutil.rmtree(keydir, ignore_errors=True)


def start_services(args, services):
    """The throwaway PostgreSQL, s3rver and redis-server the options ask for, announced in
    os.environ for the harness; returns the PostgreSQL cluster (or None). Exits 2 when one
    cannot be had."""
    cluster = None
    if args.blobs == "s3":
        import s3
        t = time.monotonic()
        try:
            srv = s3.S3Server(bucket="depot")
            services.append(srv)
            srv.start()
        except (s3.Unavailable, RuntimeError) as e:
            sys.stderr.write("run.py: --blobs s3 needs a throwaway s3rver: %s\n" % e)
            sys.exit(2)
        os.environ["DEPOT_TEST_S3"] = srv.url
        print("S3 for the run: %s (%.1fs to start)" % (srv.endpoint, time.monotonic() - t),
              flush=True)
    if args.redis:
        import redis
        dbs = 16384
        try:
            srv = redis.RedisServer(databases=dbs)
            services.append(srv)
            srv.start()
        except (redis.Unavailable, RuntimeError) as e:
            sys.stderr.write("run.py: --redis needs a throwaway redis-server: %s\n" % e)
            sys.exit(2)
        os.environ["DEPOT_TEST_REDIS"] = "redis://127.0.0.1:%d" % srv.port
        os.environ["DEPOT_TEST_REDIS_DBS"] = str(dbs)
        print("Redis for the run: 127.0.0.1:%d" % srv.port, flush=True)
    if args.store == "postgres":
        import pg
        t = time.monotonic()
        try:
            cluster = pg.Cluster(max_connections=max(200, 60 * args.jobs))
            cluster.start()
        except pg.PgError as e:
            if cluster:
                cluster.close()
            sys.stderr.write("run.py: --store postgres needs a throwaway PostgreSQL: %s\n" % e)
            sys.exit(2)
        services.append(cluster)
        os.environ["DEPOT_TEST_PG"] = cluster.url("postgres")
        print("PostgreSQL for the run: %s (%.1fs to start)" % (cluster.url(""), time.monotonic() - t),
              flush=True)
    return cluster


def run_suite(args, cluster):
    binary = os.environ.get("DEPOT_BIN")
    if not binary:
        sys.stderr.write("run.py: DEPOT_BIN is not set; using build/depot\n")
    jobs = []
    import_failures = []
    for m in find_modules():
        try:
            classes = test_classes(m)
        except Exception:  # noqa: BLE001
            import_failures.append({"id": m, "status": "ERROR",
                                    "detail": traceback.format_exc(), "secs": 0})
            continue
        selected = []
        for cname, tests, group in classes:
            sel = [t for t in tests if not args.patterns
                   or any(p in "%s.%s.%s" % (m, cname, t) for p in args.patterns)]
            for only, why, on in ((SQLITE_ONLY, "SQLite only: ", cluster),
                                  (FOLDER_ONLY, "blob folder only: ", args.blobs == "s3")):
                for t in [t for t in sel if on and "%s.%s.%s" % (m, cname, t) in only]:
                    tid = "%s.%s.%s" % (m, cname, t)
                    import_failures.append({"id": tid, "status": "skip",
                                            "detail": why + only[tid], "secs": 0})
                    sel.remove(t)
            if sel:
                selected.append((cname, sel, group))
        jobs.extend(module_jobs(m, selected))
    # The longest first (those never timed before them), so that no long one starts last.
    backends = ([args.store] if args.store != "sqlite" else []) + \
        (["s3"] if args.blobs == "s3" else []) + (["redis"] if args.redis else [])
    times = load_times(backends)
    jobs.sort(key=lambda j: -times.get(job_name(j), 1e9))

    t0 = time.monotonic()
    all_results = list(import_failures)
    lock = threading.Lock()

    def one(job):
        results, secs, err = run_job(job, args.timeout, args.verbose)
        with lock:
            for r in results:
                print("%-5s %s (%.2fs)" % (r["status"], r["id"], r["secs"]), flush=True)
            if err:
                sys.stdout.write(err)
            if args.verbose:
                print("      worker %s: %.1fs" % (job_name(job), secs), flush=True)
            if not args.patterns:
                times[job_name(job)] = round(secs, 1)
            all_results.extend(results)

    signal.signal(signal.SIGTERM, _on_term)
    ex = ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        for f in [ex.submit(one, j) for j in jobs]:
            f.result()
    except KeyboardInterrupt:
        ex.shutdown(wait=False, cancel_futures=True)
        kill_workers()
        sys.stderr.write("run.py: interrupted; killed the workers and their servers\n")
        sys.exit(130)
    ex.shutdown()
    if not args.patterns:
        save_times(times, backends)

    failed = [r for r in all_results if r["status"] in ("FAIL", "ERROR")]
    passed = sum(1 for r in all_results if r["status"] == "ok")
    skipped = [r for r in all_results if r["status"] == "skip"]
    for r in sorted(failed, key=lambda r: r["id"]):
        print("\n" + "=" * 78)
        print("%s: %s" % (r["status"], r["id"]))
        print("-" * 78)
        print(r["detail"].rstrip())
    for r in skipped:
        print("skipped %s: %s" % (r["id"], r["detail"]))
    print("\n(%d classes in %d workers in %.1fs, %d at a time)" % (
        sum(len(j[1]) for j in jobs), len(jobs), time.monotonic() - t0, args.jobs))
    line = "api%s: %d passed, %d failed" % (" (%s)" % "+".join(backends) if backends else "",
                                           passed, len(failed))
    if skipped:
        line += ", %d skipped" % len(skipped)
    print(line)
    sys.exit(1 if failed or not all_results else 0)


if __name__ == "__main__":
    main()
